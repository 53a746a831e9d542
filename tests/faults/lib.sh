# lib.sh - shared by the fault tests (after tests/e2e/lib.sh, whose
# sg_start starts the daemon): a paced DNS load from lan that writes down
# every query's fate.

# load SERVER RATE SECONDS WAIT OUT NAME...: from lan, queries NAME...
# (type A, in turn, each with its own id) at RATE a second for SECONDS,
# each given WAIT seconds to be answered; one line per query in OUT:
# "SENT_EPOCH NAME RCODE|lost MS".
load() {
	in_lan python3 - "$@" <<'PY'
import collections, random, select, socket, struct, sys, time
srv, rate, secs, wait, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
names = sys.argv[6:]
RC = {0: "NOERROR", 2: "SERVFAIL", 3: "NXDOMAIN", 5: "REFUSED"}
s = socket.socket(socket.AF_INET6 if ":" in srv else socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
s.setblocking(False)
wire = [b"".join(bytes([len(l)]) + l.encode() for l in n.split(".")) + b"\0\0\1\0\1" for n in names]
ids = random.sample(range(65536), 65536)
pending, order, done = {}, collections.deque(), []
t0 = time.time(); n = 0; end = t0 + secs
def drain():
    while True:
        try: m = s.recv(4096)
        except BlockingIOError: return
        if len(m) < 12: continue
        qid, fl = struct.unpack(">HH", m[:4])
        v = pending.pop(qid, None)
        if v is not None:
            done.append((v[0], v[1], RC.get(fl & 15, "RCODE%d" % (fl & 15)), (time.time() - v[0]) * 1000))
while True:
    now = time.time()
    while now < end and t0 + n / rate <= now:
        qid = ids[n % 65536]
        if qid in pending: break	# 65536 in flight: wait
        try: s.sendto(struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + wire[n % len(wire)], (srv, 53))
        except OSError: n += 1; continue	# not sent: not counted
        pending[qid] = (now, names[n % len(names)]); order.append((now, qid)); n += 1
        if n % 64 == 0: drain(); now = time.time()
    drain()
    while order and now - order[0][0] > wait:
        t, qid = order.popleft()
        v = pending.get(qid)
        if v is not None and v[0] == t:
            del pending[qid]; done.append((v[0], v[1], "lost", wait * 1000))
    if now >= end and not pending: break
    select.select([s], [], [], min(0.01, max(0.0, t0 + n / rate - now)) if now < end else 0.01)
with open(out, "w") as f:
    for d in sorted(done): f.write("%.6f %s %s %.1f\n" % d)
PY
}
