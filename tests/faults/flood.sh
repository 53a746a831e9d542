#!/usr/bin/env bash
# flood.sh - hostile traffic at the queues while real queries run.
#
# tests/tools/flood sends, from the lan namespace (its own addresses,
# 10.77.0.3-10 and fd77::3-a), random and malformed packets at everything the
# router queues: UDP and TCP to port 53 of the router (INPUT) and of an
# address beyond it (FORWARD), TCP to 80 and 443 and UDP to 443 beyond it
# (the connection rules), IPv4 and IPv6 fragments, IP options, extension
# headers, flags no stack sends (flood.c lists the kinds).  First a warm-up
# (WARM seconds, another seed, with the real clients too) brings the
# daemon to its steady state: flow tables full and turned over, their
# buffers allocated.  Then, for SECS seconds, the flood again while real
# clients at 10.77.0.2 and fd77::2 ask: dnsperf (UDP, IPv4) and dig over
# TCP and IPv6, allowed names and blocked ones, every answer checked; and
# halfway, a ClientHello in two segments for a blocked name (it needs a
# flow slot): with the tables full of the flood's flows, a device holding
# fewer than the busiest still gets one (flow.h), so it is judged.
#
# Passing means:
#   - the daemon does not crash, still answers after, stops cleanly, and
#     (a SAN build) its log has no sanitizer report;
#   - every packet gets exactly one verdict: per queue, the kernel's count
#     of packets handed to safegated (id_sequence in
#     /proc/net/netfilter/nfnetlink_queue) = safegated's queueN_packets =
#     its queueN_verdicts; no packet is left waiting (queue_total 0); the
#     kernel dropped none (queue_dropped, user_dropped) and safegated had
#     no ENOBUFS;
#   - the real queries keep their verdicts: dnsperf lost none, and every
#     answer (dnsperf's and dig's) is the right one for its name;
#   - memory stays flat: after the warm-up, VmRSS after the flood is at
#     most VmRSS before it + SLACK_KB (2048 KiB), and so is VmHWM (the
#     peak: the flood never took more than the warm-up did, plus slack);
#     over the flood's last third RSS (sampled every second) climbs by at
#     most 256 KiB, so that a small leak a packet shows too; and the peak
#     stays within what the flow tables may hold by design (2048 slots of
#     18.5 KiB) over the start, plus 8 MiB;
#   - the flood fills the flow tables (flows_full, flows_device_full when
#     reported), but no flow is failed for want of a slot (no
#     accept_flow_full, no drop_flow_full), and the real device's split
#     ClientHello for a blocked name is reset.
#
# Printed: packets sent by kind, what safegated made of them (outcomes),
# packets and verdicts per queue, RSS and HWM before and after, and the
# flow tables' occupancy when `safegatectl stats` reports it
# (flows_active; else "not reported").
#
# Knobs: SECS (15), WARM (20: twice the flows' 10 s timeout; the heap
# settles only once the flow tables have turned over: in the first 10 s
# after the first flows time out RSS still climbs by 3-4 MiB, then it
# stays flat to the KiB), RATE (flood packets a second: 15000), QPS
# (dnsperf's queries a second: 200), SEED (1), SLACK_KB (2048).
. "$(dirname "$0")/../e2e/lib.sh"
need_root
command -v dnsperf >/dev/null || { echo "not ok - dnsperf missing: run 'make deps'"; exit 1; }
FLOOD="$TOP/$BUILD/tools/flood"
[ -x "$FLOOD" ] || { echo "not ok - $FLOOD missing: make BUILD=$BUILD $BUILD/tools/flood"; exit 1; }
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up
# safegated gives up root for user safegate when there is one: it must
# still read its config and lists here, and write its events.
chmod 755 "$T"
id safegate >/dev/null 2>&1 && chown safegate "$T"

SECS=${SECS:-15}
WARM=${WARM:-20}
RATE=${RATE:-15000}
QPS=${QPS:-200}
SEED=${SEED:-1}
SLACK_KB=${SLACK_KB:-2048}
Q1=41
Q2=42
t0=$EPOCHREALTIME
ms() { echo $(( (${2/./} - ${1/./}) / 1000 )); }

# The flood's own addresses (eight, so that --queue-balance, which hashes
# addresses, spreads it over both queues), apart from the real clients'
# (10.77.0.2, fd77::2), so that no flood packet can be taken for an
# answer to them.
for a in 3 4 5 6 7 8 9 10; do
	ip -n "$LAN" addr add 10.77.0.$a/24 dev "sgl$ID"
	ip -n "$LAN" addr add fd77::$(printf %x $a)/64 dev "sgl$ID" nodad
done
# Nothing beyond the router answers the flood: the router's connection
# tracking keeps a bounded number of entries (flood -p), and what the
# daemon sees is the flood alone.
in_wan iptables -A INPUT -m iprange --src-range 10.77.0.3-10.77.0.10 -j DROP
in_wan ip6tables -A INPUT -m iprange --src-range fd77::3-fd77::a -j DROP
# A TLS listener of sorts beyond the router, for a real client's
# ClientHello sent in two segments (it needs a flow slot): it reads and
# keeps the connection open.
ip netns exec "$WAN" python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.78.0.2", 443)); s.listen(64)
def serve(c):
    c.settimeout(20)
    try:
        while c.recv(4096):
            pass
    except OSError:
        pass
    c.close()
while True:
    c, a = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
' &
echo $! >"$T/tls.bgpid"
cat >"$T/hello.py" <<'PY'
# hello.py NAME: a ClientHello for NAME, 1.8 KB (as big key shares make
# them), sent in two segments 0.2 s apart, then a byte a little later:
# prints "reset" when the router reset the connection, else "passed".
import socket, struct, sys, time
name = sys.argv[1].encode()
ext = struct.pack("!HHHBH", 0, len(name) + 5, len(name) + 3, 0, len(name)) + name
ext += struct.pack("!HHBH", 43, 3, 2, 0x0304)
ext += struct.pack("!HH", 21, 1500) + bytes(1500)
body = struct.pack("!H", 0x0303) + bytes(32) + b"\x20" + bytes(32)
body += struct.pack("!HHH", 4, 0x1301, 0x1302) + b"\1\0" + struct.pack("!H", len(ext)) + ext
hs = b"\x01" + struct.pack("!I", len(body))[1:] + body
rec = b"\x16\x03\x01" + struct.pack("!H", len(hs)) + hs
s = socket.create_connection(("10.78.0.2", 443), timeout=5)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
try:
    s.send(rec[:300]); time.sleep(0.2); s.send(rec[300:]); time.sleep(0.5)
    s.send(b"x"); time.sleep(0.3); s.send(b"y")
    print("passed")
except OSError:
    print("reset")
PY
hello() { in_lan python3 "$T/hello.py" "$1"; }

# --- names, lists, config ----------------------------------------------------------
: >"$T/hosts"; : >"$T/labels"; : >"$T/queries"
{ echo '# reserved names only'; for i in $(seq 1 10); do echo "adult$i.test"; done; } \
	>"$T/adult.domains"
for i in $(seq 1 10); do
	echo "10.77.9.1 adult$i.test" >>"$T/hosts"
	echo "10.77.9.1 ok$i.test" >>"$T/hosts"
	echo "fd77:9::1 adult$i.test" >>"$T/hosts"
	echo "fd77:9::1 ok$i.test" >>"$T/hosts"
	echo "B adult$i.test A" >>"$T/labels"; echo "adult$i.test A" >>"$T/queries"
	echo "A ok$i.test A" >>"$T/labels"; echo "ok$i.test A" >>"$T/queries"
done
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ $Q1, $Q2 ]; fail_open = true; max_len = 4096; };
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
	--addn-hosts="$T/hosts" --listen-address=10.77.0.1,fd77::1 \
	--bind-interfaces --user=root --group=root --pid-file="$T/dnsmasq.pid" \
	--local-ttl=60 --cache-size=0 --dns-forward-max=1000 \
	--log-facility="$T/dnsmasq.log" &
echo $! >"$T/dnsmasq.bgpid"
dig1() { in_lan dig +time=2 +tries=1 "$@"; }
wait_dns dig1 @10.77.0.1 ok1.test || { not_ok "router dnsmasq answers"; exit 1; }

# A SAN build (make SAN=1) keeps freed memory in ASan's quarantine, 256
# MiB by default, which would make RSS climb for as long as the flood
# lasts: a small one lets memory settle as it does without ASan (the
# bound below allows for ASan's shadow and redzones).
SANBUILD=false
if ldd "$TOP/$BUILD/safegated" 2>/dev/null | grep -q libasan; then
	SANBUILD=true
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4:thread_local_quarantine_size_kb=256"
fi
# Without -d: a debug line per packet would make this a test of the log.
: >"$T/safegated.log"
ip netns exec "$RTR" "$TOP/$BUILD/safegated" -f $SG_USER -c "$T/sg.conf" >>"$T/safegated.log" 2>&1 &
SG_PID=$!
for _ in $(seq 1 100); do
	grep -q filtering "$T/safegated.log" && break
	kill -0 $SG_PID 2>/dev/null || break
	sleep 0.1
done
grep -q filtering "$T/safegated.log" || { not_ok "safegated starts"; sed "s/^/#   /" "$T/safegated.log"; exit 1; }
ok "safegated starts"

verdicts_hold() {	# verdicts_hold WHEN
	check_out "$1: adult3.test NXDOMAIN" 'status: NXDOMAIN' dig1 @10.77.0.1 adult3.test
	check_out "$1: ok4.test answered" '^10\.77\.9\.1$' dig1 @10.77.0.1 ok4.test +short
	check_out "$1: adult5.test over TCP and IPv6 reset" 'connection reset' \
		dig1 +tcp @fd77::1 adult5.test AAAA
	check_out "$1: ok6.test over TCP and IPv6 answered" '^fd77:9::1$' \
		dig1 +tcp @fd77::1 ok6.test AAAA +short
	check_out "$1: safegatectl status answers" '^generation 1$' ctl status
	[ "${2:-}" = nohello ] && return
	hellos_hold "$1"
}
hellos_hold() {
	check_out "$1: a blocked name's ClientHello in two segments is reset" '^reset$' hello adult6.test
	check_out "$1: an allowed one's passes" '^passed$' hello ok6.test
}
verdicts_hold "before"

# --- figures ---------------------------------------------------------------------------
mem() { awk -v k="$1:" '$1 == k { print $2 }' /proc/$SG_PID/status; }
# kq FIELD QUEUE: a field of the kernel's line for a queue (3 queue_total,
# 6 queue_dropped, 7 user_dropped, 8 id_sequence).
kq() { in_rtr cat /proc/net/netfilter/nfnetlink_queue | awk -v q="$2" -v f="$1" '$1 == q { print $f }'; }
# sv FILE NAME: a counter from a saved `safegatectl stats`.
sv() { awk -v k="$2" '$1 == k { print $2; f = 1 } END { if (!f) print "" }' "$1"; }
snap() {	# snap NAME: stats, kernel queue counters, memory
	ctl stats >"$T/st.$1"
	for q in $Q1 $Q2; do
		echo "q$q $(kq 3 $q) $(kq 6 $q) $(kq 7 $q) $(kq 8 $q)"
	done >"$T/kq.$1"
	echo "$(mem VmRSS) $(mem VmHWM)" >"$T/mem.$1"
}
# flood SECONDS SEED: the generator, from lan; its report in $T/flood.SEED
flood() {
	in_lan "$FLOOD" -d "$1" -r "$RATE" -x "$2" -p 2048 -a 8 ${3:+-k "$3"} \
		-4 10.77.0.3,10.77.0.1,10.78.0.2 -6 fd77::3,fd77::1,fd78::2 \
		-n adult1.test -n adult2.test -n www.adult3.test -n ok1.test \
		>"$T/flood.$2" 2>&1
}

# perf SECONDS OUT: dnsperf from the real client, QPS for SECONDS.
perf() {
	in_lan dnsperf -s 10.77.0.1 -a 10.77.0.2 -d "$T/queries" -n $(( (QPS * $1) / 20 )) -Q "$QPS" \
		-c 4 -q 50 -t 3 -v >"$2" 2>"$2.err"
}
# digs SECONDS: dig over TCP and IPv6, in turn blocked (safegated resets
# the connection) and allowed, for SECONDS: "WANT GOT NAME" per query.
digs() {
	local end=$(( ${EPOCHREALTIME/./} / 1000 + $1 * 1000 )) i=0 n name want got
	while [ $(( ${EPOCHREALTIME/./} / 1000 )) -lt $end ]; do
		i=$((i + 1)); n=$(( (i % 10) + 1 ))
		if [ $((i % 2)) = 0 ]; then name=adult$n.test want=RESET; else name=ok$n.test want=NOERROR; fi
		got=$(in_lan dig +tcp +time=3 +tries=1 -b fd77::2 @fd77::1 "$name" AAAA 2>&1 |
			sed -n -e 's/.*status: \([A-Z]*\).*/\1/p' -e 's/.*connection reset.*/RESET/p' | head -1)
		echo "$want ${got:-none} $name"
		sleep 0.2
	done
}
# right LABELS PERFOUT: "right N wrong M" over dnsperf's answers.
right() {
	awk 'FNR == NR { want[tolower($2) " " $3] = $1 == "B" ? "NXDOMAIN" : "NOERROR"; next }
	$1 == ">" { if (want[tolower($3) " " $4] == $2) r++; else { w++; if (w <= 5) print "wrong:", $0 } }
	END { printf "right %d wrong %d\n", r, w }' "$1" "$2"
}

# --- warm-up: the same load as the test, flood and real clients -------------------
snap start
tw=$EPOCHREALTIME
perf "$WARM" "$T/perf.warm" &
WP=$!
digs "$WARM" >"$T/dig.warm" &
WD=$!
flood "$WARM" $((SEED + 1000)) || { not_ok "the warm-up flood ran"; cat "$T/flood.$((SEED + 1000))"; }
wait $WP $WD
check_out "warm-up: dnsperf's answers all right" '^right [1-9][0-9]* wrong 0$' right "$T/labels" "$T/perf.warm"
sleep 1
snap before
echo "# warm-up: $(ms "$tw" "$EPOCHREALTIME") ms, $(awk '$1 == "total" { print $3 }' "$T/flood.$((SEED + 1000))") packets;" \
	"RSS $(cut -d' ' -f1 "$T/mem.start") -> $(cut -d' ' -f1 "$T/mem.before") KiB," \
	"HWM $(cut -d' ' -f2 "$T/mem.before") KiB"

# --- the flood, and the real clients ------------------------------------------------------
tf=$EPOCHREALTIME
perf "$SECS" "$T/perf.out" &
PERF=$!
digs "$SECS" >"$T/dig.out" &
DIGS=$!
# RSS every second, for the record (and to see a slow leak's slope).
( while kill -0 "$SG_PID" 2>/dev/null; do mem VmRSS; sleep 1; done ) >"$T/rss.series" &
RSSMON=$!
# Halfway, with the flow tables full of the flood's half ClientHellos, a
# real device's ClientHello in two segments for a blocked name.
( sleep $((SECS / 2)); hello adult7.test >"$T/hello.during" 2>&1 ) &
HELLO=$!
flood "$SECS" "$SEED"; fs=$?
kill $RSSMON 2>/dev/null
wait $HELLO
wait $PERF; ps=$?
wait $DIGS
te=$EPOCHREALTIME
sleep 1
snap after

# --- what was sent ------------------------------------------------------------------------
echo "# flood, seed $SEED, $SECS s at $RATE/s asked:"
awk '$1 == "kind" { printf "#   %-14s %8d sent %4d failed\n", $2, $4, $6 }
	$1 == "total" { printf "#   total          %8d sent %4d failed in %s s (%s/s)\n", $3, $5, $7, $9 }' \
	"$T/flood.$SEED"
check "the flood ran" test "$fs" = 0
check "every kind of packet was sent" \
	sh -c "! awk '\$1 == \"kind\" && \$4 == 0' '$T/flood.$SEED' | grep -q ."
SENT=$(awk '$1 == "total" { print $3 }' "$T/flood.$SEED"); SENT=${SENT:-0}

# --- the daemon ----------------------------------------------------------------------------
check "safegated is still running" kill -0 "$SG_PID"
d() { echo $(( $(sv "$T/st.after" "$1") - $(sv "$T/st.before" "$1") )); }
echo "# safegated over the flood (outcomes that moved):"
awk 'FNR == NR { b[$1] = $2; next } ($2 - b[$1]) > 0 && $1 !~ /^(queue|events_|reload|flows_|control_)/ { printf "#   %-22s %d\n", $1, $2 - b[$1] }' \
	"$T/st.before" "$T/st.after"
PK=0
for q in $Q1 $Q2; do
	read -r _ tot0 qd0 ud0 id0 <<<"$(grep "^q$q " "$T/kq.before")"
	read -r _ tot1 qd1 ud1 id1 <<<"$(grep "^q$q " "$T/kq.after")"
	p=$(d queue${q}_packets); v=$(d queue${q}_verdicts); PK=$((PK + p))
	echo "# queue $q: kernel handed $((id1 - id0)), safegated received $p, gave $v verdicts;" \
		"waiting now $tot1; kernel drops $((qd1 - qd0)) + $((ud1 - ud0)); enobufs $(d queue${q}_enobufs)"
	check "queue $q: every packet got exactly one verdict ($p packets, $v verdicts)" test "$p" = "$v"
	check "queue $q: safegated received every packet the kernel queued ($((id1 - id0)))" \
		test "$p" = "$((id1 - id0))"
	check "queue $q: no packet left waiting for a verdict" test "$tot1" = 0
	check "queue $q: the kernel dropped none, safegated had no ENOBUFS" \
		test "$((qd1 - qd0 + ud1 - ud0))" = 0 -a "$(d queue${q}_enobufs)" = 0
done
check "no verdict or socket error, no bad message" \
	test "$(( $(d queue${Q1}_verdict_errors) + $(d queue${Q2}_verdict_errors) + $(d queue${Q1}_bad_messages) + $(d queue${Q2}_bad_messages) + $(d socket_errors) ))" = 0
echo "# the flood sent $SENT packets; safegated judged $PK (the rest: dropped by the router's own stack before the queues, fragments held for reassembly, connections past their first packets)"
check "safegated judged most of the flood (at least half: $PK of $SENT)" test $((PK * 2)) -ge "$SENT"
check "it read malformed packets as such (drop_malformed up)" test "$(d drop_malformed)" -gt 0
if grep -q '^flows_active ' "$T/st.after"; then
	# A device at its share of a table (flows_device_full, when stats
	# report it) gives way to itself; in a full table the busiest device
	# gives way (flows_full).  Neither fails a flow open or closed.
	DFULL=0 DSHOW="not reported"
	grep -q '^flows_device_full ' "$T/st.after" && { DFULL=$(d flows_device_full); DSHOW=$DFULL; }
	echo "# flow tables: active $(sv "$T/st.before" flows_active) before, $(sv "$T/st.after" flows_active) after," \
		"of $(sv "$T/st.after" flows_max); over the flood: created $(d flows_created), expired $(d flows_expired)," \
		"full $(d flows_full), device_full $DSHOW (accept_flow_full $(d accept_flow_full), drop_flow_full $(d drop_flow_full))"
	check "flow tables: never past their cap" test "$(sv "$T/st.after" flows_active)" -le "$(sv "$T/st.after" flows_max)"
	check "flow tables: the flood hit the cap, and it was counted (flows_full $(d flows_full), flows_device_full $DSHOW)" \
		test "$(( $(d flows_full) + DFULL ))" -gt 0
	check "flow tables: no flow failed for want of a slot (accept_flow_full $(d accept_flow_full), drop_flow_full $(d drop_flow_full))" \
		test "$(( $(d accept_flow_full) + $(d drop_flow_full) ))" = 0
else
	echo "# flow tables: occupancy not reported by safegatectl stats (flows_active)"
fi
check_out "during the flood: a blocked name's ClientHello in two segments from another device is reset" \
	'^reset$' cat "$T/hello.during"
echo "# events: lost $(d events_lost), written $(d events_written)"

# --- the real clients -------------------------------------------------------------------------
sed -n '/^Statistics:/,$p' "$T/perf.out" | sed 's/^/#   /'
check "dnsperf ran" test "$ps" = 0
check_out "dnsperf: 0 queries lost" 'Queries lost: +0 ' cat "$T/perf.out"
check_out "dnsperf: every query got its own right answer" '^right [1-9][0-9]* wrong 0$' \
	right "$T/labels" "$T/perf.out"
echo "# dig over TCP and IPv6: $(wc -l <"$T/dig.out") queries"
check_out "dig over TCP and IPv6: every answer right" '^right [1-9][0-9]* wrong 0$' \
	awk '{ if ($1 == $2) r++; else { w++; print "wrong:", $0 } } END { printf "right %d wrong %d\n", r, w }' \
	"$T/dig.out"

# --- memory ---------------------------------------------------------------------------------
read -r rss0 hwm0 <"$T/mem.before"
read -r rss1 hwm1 <"$T/mem.after"
echo "# memory (KiB): RSS $rss0 before, $rss1 after ($((rss1 - rss0)));" \
	"HWM $hwm0 before, $hwm1 after ($((hwm1 - hwm0))); start RSS $(cut -d' ' -f1 "$T/mem.start")"
echo "# RSS each second over the flood (KiB): $(tr '\n' ' ' <"$T/rss.series")"
check "memory flat: RSS after <= RSS before + $SLACK_KB KiB" test "$rss1" -le $((rss0 + SLACK_KB))
check "memory flat: peak (HWM) after <= HWM before + $SLACK_KB KiB" test "$hwm1" -le $((hwm0 + SLACK_KB))
# A leak of a few bytes a packet stays under the slack over one run, but
# shows as a slope: over the flood's last third RSS must not climb.
tail3=$(awk '{ v[NR] = $1 } END { n = int(NR * 2 / 3); if (n < 1) n = 1; print v[NR] - v[n] }' "$T/rss.series")
check "memory flat: RSS over the flood's last third grew $tail3 KiB (<= 256)" test "$tail3" -le 256
# And bounded by design: the flow tables at most FLOWS_PER_WORKER slots a
# worker, each with an 18 KiB stream buffer (flow.h), over what it took
# at start, plus 8 MiB for the rest.
FLOWMAX=$(sv "$T/st.after" flows_max); FLOWMAX=${FLOWMAX:-2048}
BOUND=$(( $(cut -d' ' -f1 "$T/mem.start") + FLOWMAX * 185 / 10 + 8192 ))
$SANBUILD && BOUND=$(( BOUND * 2 ))	# ASan: shadow, redzones, quarantine
check "memory bounded: peak $hwm1 KiB <= start + $FLOWMAX flows x 18.5 KiB + 8 MiB = $BOUND KiB" \
	test "$hwm1" -le "$BOUND"

verdicts_hold "after the flood" nohello
# The flood's last half ClientHellos hold the flow tables until they time
# out (10 s, FLOW_TIMEOUT in server.c); then a device's connections in two
# segments are judged again.
sleep 11
hellos_hold "after the flood's flows timed out"
echo "# flood and clients: $(ms "$tf" "$te") ms"
safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
# The flow tables' fullness is logged, rate-limited (flow.c): at most a
# line a second of each kind, whatever the flood's rate.
secs=$(( $(ms "$t0" "$EPOCHREALTIME") / 1000 + 1 ))
lfull=$(grep -c 'flows: table full' "$T/safegated.log")
lshare=$(grep -c 'flows: .* holds its share' "$T/safegated.log")
grep -m1 'flows: table full' "$T/safegated.log" | sed 's/^/# log: /'
check "full flow tables logged, at most once a second ($lfull lines, $lshare of a device's share, in $secs s)" \
	test "$lfull" -gt 0 -a "$lfull" -le "$secs" -a "$lshare" -le "$secs"
check "no sanitizer report" no_sanitizer_report
check_not_out "no crash or assertion in the log" 'Segmentation|Assertion|Aborted|fatal' cat "$T/safegated.log"
echo "# whole test: $(ms "$t0" "$EPOCHREALTIME") ms"
finish
