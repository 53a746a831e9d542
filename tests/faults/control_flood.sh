#!/usr/bin/env bash
# control_flood.sh - the control socket flooded while DNS queries run.
#
# A flooder (python3, here) hammers safegated's control socket for SECS
# seconds from four threads at once: two open waves of WAVE connections
# that send nothing and wait to be closed, two send requests as fast as
# they are answered - over-long ones (CONTROL_REQ_MAX is 512 bytes),
# binary ones holding NUL bytes, empty ones, unknown words, and status.
# Meanwhile dnsperf asks allowed and blocked names through the router, a
# well-behaved `safegatectl status` runs every half second, and a SIGHUP
# asks for a reload.
#
# Passing means:
#   - the packet path keeps its verdicts: dnsperf lost nothing and every
#     answer is the right one;
#   - the main thread is never held: every safegatectl status during the
#     flood answers within 5 s (the table's cap is 16 and a new client
#     evicts the oldest silent one; a status evicted unread is sent again),
#     the reload is done within 3 s of its SIGHUP;
#   - every silent connection is closed by the daemon (evicted, or at its
#     1 s deadline), none is kept 3 s; every request the flooder sent got
#     its reply (an error for the bad ones, ok for status);
#   - refusals are counted and logged with rate limiting: the log has the
#     control lines with their running counts ("N so far"), and no more of
#     them than the limit lets through (5, then 1 a second); when
#     `safegatectl stats` reports the control counters (control_*), they
#     agree with what the flooder saw;
#   - after: nothing leaks (the daemon's open descriptors are as many as
#     before), status answers, a clean stop, no sanitizer report.
#
# Knobs: SECS (10), WAVE (200 silent connections a wave), QPS (200).
. "$(dirname "$0")/../e2e/lib.sh"
need_root
for tool in dnsperf python3; do
	command -v $tool >/dev/null || { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
done
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up
# safegated gives up root for user safegate when there is one: it must
# still read its config and lists here, and write its events.
chmod 755 "$T"
id safegate >/dev/null 2>&1 && chown safegate "$T"

SECS=${SECS:-10}
WAVE=${WAVE:-200}
QPS=${QPS:-200}
t0=$EPOCHREALTIME
ms() { echo $(( (${2/./} - ${1/./}) / 1000 )); }

: >"$T/hosts"; : >"$T/labels"; : >"$T/queries"
{ echo '# reserved names only'; for i in $(seq 1 10); do echo "adult$i.test"; done; } \
	>"$T/adult.domains"
for i in $(seq 1 10); do
	echo "10.77.9.1 adult$i.test" >>"$T/hosts"
	echo "10.77.9.1 ok$i.test" >>"$T/hosts"
	echo "B adult$i.test A" >>"$T/labels"; echo "adult$i.test A" >>"$T/queries"
	echo "A ok$i.test A" >>"$T/labels"; echo "ok$i.test A" >>"$T/queries"
done
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 43 ]; fail_open = true; max_len = 4096; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "adult"; files = [ "adult.domains" ]; } );
block = [ "adult" ];
log = { events = "$T/events.jsonl"; level = "info"; };
control = { socket = "$T/control.sock"; };
CONF
ip netns exec "$RTR" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--addn-hosts="$T/hosts" --listen-address=10.77.0.1 --bind-interfaces \
	--user=root --group=root --pid-file="$T/dnsmasq.pid" --local-ttl=60 \
	--cache-size=0 --log-facility="$T/dnsmasq.log" &
echo $! >"$T/dnsmasq.bgpid"
dig1() { in_lan dig +time=2 +tries=1 "$@"; }
wait_dns dig1 @10.77.0.1 ok1.test || { not_ok "router dnsmasq answers"; exit 1; }

: >"$T/safegated.log"
ip netns exec "$RTR" "$TOP/$BUILD/safegated" -f $SG_USER -c "$T/sg.conf" >>"$T/safegated.log" 2>&1 &
SG_PID=$!
for _ in $(seq 1 100); do
	grep -q filtering "$T/safegated.log" && break
	kill -0 $SG_PID 2>/dev/null || break
	sleep 0.1
done
grep -q filtering "$T/safegated.log" || { not_ok "safegated starts"; sed 's/^/#   /' "$T/safegated.log"; exit 1; }
ok "safegated starts"
check_out "before: adult1.test NXDOMAIN" 'status: NXDOMAIN' dig1 @10.77.0.1 adult1.test
check_out "before: ok1.test answered" '^10\.77\.9\.1$' dig1 @10.77.0.1 ok1.test +short
check_out "before: safegatectl status answers" '^generation 1$' ctl status
fds() { ls /proc/$SG_PID/fd | wc -l; }
FD0=$(fds)
ctl stats >"$T/st.before"

# --- the flooder ----------------------------------------------------------------------
cat >"$T/ctlflood.py" <<'PY'
import collections, os, random, socket, sys, threading, time

path, secs, wave = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
end = time.monotonic() + secs
counts = collections.Counter()
lock = threading.Lock()
rnd = random.Random(7)

def count(k, n=1):
    with lock:
        counts[k] += n

def connect():
    # A full listen backlog: connect() waits, as a blocking one does (a
    # socket with a timeout is non-blocking inside: EAGAIN), up to 5 s.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(5)
    t = time.monotonic()
    while True:
        try:
            s.connect(path)
            return s
        except BlockingIOError:
            if time.monotonic() - t > 5:
                s.close()
                raise
            count("connect_waits")
            time.sleep(0.001)

def silent():
    while time.monotonic() < end:
        socks = []
        for _ in range(wave):
            if time.monotonic() >= end:
                break
            try:
                socks.append(connect())
                count("silent_sent")
            except OSError:
                count("connect_error")
        # Each must be closed by the daemon within 3 s of the wave's end.
        t = time.monotonic()
        for s in socks:
            try:
                s.settimeout(max(0.001, t + 3 - time.monotonic()))
                r = s.recv(100)
                count("silent_closed" if r == b"" else "silent_replied")
            except socket.timeout:
                count("silent_kept")
            except OSError:
                count("silent_closed")
            s.close()
        count("silent_wait_ms", int((time.monotonic() - t) * 1000))

def requests(seed):
    r = random.Random(seed)
    kinds = ["long", "nul", "empty", "unknown", "status"]
    while time.monotonic() < end:
        k = kinds[r.randrange(len(kinds))]
        if k == "long":
            req = bytes(r.randrange(33, 127) for _ in range(513 + r.randrange(3000)))
        elif k == "nul":
            req = bytes(r.randrange(256) for _ in range(1 + r.randrange(100))) + b"\0"
        elif k == "empty":
            req = b" \t\n"
        elif k == "unknown":
            req = b"frobnicate " + b"x" * r.randrange(100)
        else:
            req = b"status"
        try:
            s = connect()
        except OSError:
            count("connect_error")
            continue
        count(k + "_sent")
        try:
            s.send(req)
            rep = s.recv(200000)
            if rep.startswith(b"ok\n"):
                count(k + "_ok")
            elif rep.startswith(b"error: "):
                count(k + "_error")
            else:
                count(k + "_closed")
        except socket.timeout:
            count(k + "_timeout")
        except OSError:
            count(k + "_reset")
        s.close()

ts = [threading.Thread(target=silent) for _ in range(2)]
ts += [threading.Thread(target=requests, args=(i,)) for i in range(2)]
for t in ts:
    t.start()
for t in ts:
    t.join()
for k in sorted(counts):
    print(k, counts[k])
PY

in_lan dnsperf -s 10.77.0.1 -a 10.77.0.2 -d "$T/queries" -n $(( (QPS * SECS) / 20 )) -Q "$QPS" -c 4 -q 50 -t 3 -v \
	>"$T/perf.out" 2>"$T/perf.err" &
PERF=$!
tf=$EPOCHREALTIME
# Bounded however the daemon behaves: a control socket that holds its
# clients makes every wait here run out, not the test hang.
timeout $((SECS + 30)) ip netns exec "$RTR" python3 "$T/ctlflood.py" "$T/control.sock" "$SECS" "$WAVE" \
	>"$T/flood.out" 2>&1 &
FLOODER=$!
# A well-behaved client meanwhile: status every half second, each timed.
(
	end=$(( ${EPOCHREALTIME/./} / 1000 + (SECS - 1) * 1000 ))
	sleep 0.5
	while [ $(( ${EPOCHREALTIME/./} / 1000 )) -lt $end ]; do
		t=$EPOCHREALTIME
		if out=$(timeout 5 ip netns exec "$RTR" "$TOP/$BUILD/safegatectl" -s "$T/control.sock" status 2>&1) &&
			grep -q '^generation ' <<<"$out"; then r=ok; else r="fail: $(head -1 <<<"$out")"; fi
		echo "$(ms "$t" "$EPOCHREALTIME") $r"
		sleep 0.5
	done
) >"$T/status.out" &
STATUS=$!
sleep $((SECS / 2))
mark=$(wc -l <"$T/safegated.log")
th=$EPOCHREALTIME
kill -HUP "$SG_PID"
hup=fail
for _ in $(seq 1 300); do
	if tail -n +$((mark + 1)) "$T/safegated.log" | grep -q 'reloaded .*generation 2'; then
		hup="$(ms "$th" "$EPOCHREALTIME")"; break
	fi
	sleep 0.01
done
wait $FLOODER; fst=$?
wait $STATUS
wait $PERF; ps=$?
te=$EPOCHREALTIME
sleep 1.5	# past every deadline

# --- figures and checks ------------------------------------------------------------------
echo "# the flooder, $SECS s (client side):"
sed 's/^/#   /' "$T/flood.out"
fc() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }' "$T/flood.out"; }
echo "# safegatectl status during the flood (ms, result): $(awk '{ printf "%s:%s ", $1, $2 }' "$T/status.out")"
echo "# SIGHUP during the flood: reloaded in ${hup} ms"
check "the flooder ran" test "$fst" = 0
check "safegated is still running" kill -0 "$SG_PID"
check "the flood was a flood: over $((WAVE * 2)) silent connections, over 100 requests" \
	test "$(fc silent_sent)" -gt $((WAVE * 2)) -a $(( $(fc long_sent) + $(fc nul_sent) + $(fc status_sent) )) -gt 100
check_out "every safegatectl status during the flood answered ($(wc -l <"$T/status.out") of them)" \
	'^all [1-9][0-9]* ok$' awk '{ n++; if ($2 == "ok") k++; else print } END { print (n == k ? "all " n " ok" : k " of " n " ok") }' "$T/status.out"
check "each within 5 s (slowest $(sort -n "$T/status.out" | tail -1 | cut -d' ' -f1) ms)" \
	test "$(sort -n "$T/status.out" | tail -1 | cut -d' ' -f1)" -lt 5000
check "the SIGHUP reload was done within 3 s" test "$hup" != fail
check "no silent connection was kept 3 s: every one closed by the daemon" \
	test "$(fc silent_kept)" = 0 -a "$(fc silent_replied)" = 0 -a "$(fc silent_closed)" = "$(fc silent_sent)"
# A flooder's request is evicted (its connection reset) when 16 newer
# connections came before it sent it: the price of keeping a silent flood
# from holding the table.  safegatectl sends with its connect, and should
# it be evicted unread all the same, control_request() sends it again;
# the flooder's Python threads, taking turns, are evicted now and then and
# do not try again.
RESETS=0
for k in long nul empty unknown status; do RESETS=$((RESETS + $(fc ${k}_reset))); done
REQS=$(( $(fc long_sent) + $(fc nul_sent) + $(fc empty_sent) + $(fc unknown_sent) + $(fc status_sent) ))
check "over-long requests: an error reply each, never ok ($(fc long_error) of $(fc long_sent); $(fc long_reset) evicted)" \
	test "$(fc long_ok)" = 0 -a "$(fc long_closed)" = 0 -a "$(fc long_timeout)" = 0 -a "$(fc long_error)" -gt 0
check "NUL-holding requests: an error reply each, never ok ($(fc nul_error) of $(fc nul_sent))" \
	test "$(fc nul_ok)" = 0 -a "$(fc nul_closed)" = 0 -a "$(fc nul_timeout)" = 0 -a "$(fc nul_error)" -gt 0
check "empty and unknown requests: an error reply each, never ok" \
	test "$(( $(fc empty_ok) + $(fc unknown_ok) + $(fc empty_closed) + $(fc unknown_closed) ))" = 0 \
	-a "$(( $(fc empty_timeout) + $(fc unknown_timeout) ))" = 0
check "status from the flooder: ok each, never an error ($(fc status_ok) of $(fc status_sent))" \
	test "$(fc status_error)" = 0 -a "$(fc status_closed)" = 0 -a "$(fc status_timeout)" = 0 -a "$(fc status_ok)" -gt 0
check "requests evicted before they were sent: $RESETS of $REQS (at most 5%)" test $((RESETS * 20)) -le "$REQS"
check "no connect failed (waits for backlog room: $(fc connect_waits))" test "$(fc connect_error)" = 0

# Logged, rate-limited, with the running counts.
grep 'control: ' "$T/safegated.log" >"$T/control.log"
echo "# control lines in the log: $(wc -l <"$T/control.log"); the last ones:"
tail -4 "$T/control.log" | sed 's/^/#   /'
check_out "the log says silent clients were closed, with a count" \
	'control: closed a (silent client to make room|client that sent no request in time).*[0-9]+ so far' cat "$T/control.log"
check_out "the log says bad requests came, with a count" \
	'control: a request (too long|holding a NUL byte) \([0-9]+ so far' cat "$T/control.log"
check "the log is rate-limited: $(wc -l <"$T/control.log") control lines <= 5 + 1 a second" \
	test "$(wc -l <"$T/control.log")" -le $(( 5 + $(ms "$tf" "$te") / 1000 + 2 ))
ctl stats >"$T/st.after"
if grep -q '^control_' "$T/st.after"; then
	sv() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }
	echo "# control counters: $(grep '^control_' "$T/st.after" | tr '\n' ' ')"
	bad=$(( $(fc long_error) + $(fc nul_error) + $(fc empty_error) ))
	check "stats: control_bad counts the bad requests read ($bad)" \
		test "$(( $(sv "$T/st.after" control_bad) - $(sv "$T/st.before" control_bad) ))" = "$bad"
	check "stats: every silent or evicted connection counted evicted or timed out ($(fc silent_sent) + $RESETS)" \
		test "$(( $(sv "$T/st.after" control_evicted) + $(sv "$T/st.after" control_timeouts) ))" = "$(( $(fc silent_sent) + RESETS ))"
	check "stats: the refused words counted (control_refused 0: root may do all)" \
		test "$(sv "$T/st.after" control_refused)" = 0
	check "stats: no client open now but the one asking" test "$(sv "$T/st.after" control_clients)" = 1
else
	echo "# control counters: not in safegatectl stats (server.c does not print control_get_stats())"
fi

# The packet path, meanwhile.
sed -n '/^Statistics:/,$p' "$T/perf.out" | sed 's/^/#   /'
check "dnsperf ran" test "$ps" = 0
check_out "dnsperf: 0 queries lost" 'Queries lost: +0 ' cat "$T/perf.out"
check_out "dnsperf: every query got its own right answer" '^right [1-9][0-9]* wrong 0$' \
	awk 'FNR == NR { want[tolower($2) " " $3] = $1 == "B" ? "NXDOMAIN" : "NOERROR"; next }
	$1 == ">" { if (want[tolower($3) " " $4] == $2) r++; else { w++; if (w <= 5) print "wrong:", $0 } }
	END { printf "right %d wrong %d\n", r, w }' "$T/labels" "$T/perf.out"

# After.
FD1=$(fds)
echo "# open descriptors: $FD0 before, $FD1 after"
check "no descriptor leaked ($FD0 before, $FD1 after)" test "$FD1" = "$FD0"
check_out "after: safegatectl status answers" '^generation 2$' ctl status
check_out "after: adult2.test NXDOMAIN" 'status: NXDOMAIN' dig1 @10.77.0.1 adult2.test
echo "# flood: $(ms "$tf" "$te") ms"
safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
echo "# whole test: $(ms "$t0" "$EPOCHREALTIME") ms"
finish
