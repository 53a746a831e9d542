#!/usr/bin/env bash
# reload.sh - reloads under load: two dnsperf runs (IPv4 and IPv6, a known
# mix of blocked and allowed names, a fixed number of passes) against the
# router's resolver while safegated reloads 20 times, alternating SIGHUP
# and `safegatectl reload`.  Before each reload the compiled set is
# replaced (atomically, by rename) by one of two sets that hold the same
# lists with the categories in another order, and the config by one of two
# that list them in another order (the config flips every reload, the set
# every other one: all four pairs).  Every pair gives the same verdicts,
# but not through the same category ids, so a reload that mixed the old
# and the new set or config, or swapped them in two steps, would show.  Then: no
# query lost, every query its right answer, one verdict per packet, the
# reload counters up by exactly 20.  Then broken reloads (a syntax error,
# a missing list file, a truncated set, a set with flipped bytes), each
# refused with its reason while the running policy stays as it was.
#
# Knobs (environment): PASSES (160: passes over the 100-line query file,
# per address family), RATE (4000: queries a second, per family).
. "$(dirname "$0")/lib.sh"
need_root
command -v dnsperf >/dev/null || { echo "not ok - dnsperf missing: run 'make deps'"; exit 1; }
trap cleanup EXIT
net_up

PASSES=${PASSES:-160}
RATE=${RATE:-4000}
RELOADS=20
LISTS="$TOP/$BUILD/safegate-lists"
Q1=21	# the queues: two, so two workers hold snapshots
Q2=22
t0=$EPOCHREALTIME

# --- the lists and the names ---------------------------------------------------
# adult (a domains list: the entry and its subdomains) and games (a hosts
# list) are blocked; social is listed but not blocked.
{ echo '# reserved names only'; for i in $(seq 1 10); do echo "adult$i.test"; done; } \
	>"$T/adult.domains"
{ echo '# reserved names only'; for i in $(seq 1 10); do echo "0.0.0.0 game$i.test"; done; } \
	>"$T/games.hosts"
{ echo '# reserved names only'; for i in $(seq 1 10); do echo "social$i.test"; done; } \
	>"$T/social.domains"

# The query file: 100 lines, 45 blocked (B) and 55 allowed (A); every name
# is in dnsmasq's hosts file, so a blocked query that slipped past
# safegated would be answered NOERROR: a wrong verdict shows as such.
: >"$T/queries"; : >"$T/labels"; : >"$T/hosts"
q() {	# q LABEL NAME TYPE
	echo "$2 $3" >>"$T/queries"
	echo "$1 $2 $3" >>"$T/labels"
	grep -qix "10\.77\.9\.1 $2" "$T/hosts" || echo "10.77.9.1 $2" >>"$T/hosts"
}
for i in $(seq 1 10); do
	q B "adult$i.test" A
	q B "www.adult$i.test" A		# a subdomain of a domains entry
	q B "game$i.test" A
	q A "ok$i.test" A
	q A "social$i.test" A			# listed, not blocked
	q A "xadult$i.test" A			# a lookalike
	q A "ok$i.test" AAAA
	q A "adult$i.test.ok$i.test" A		# a blocked name inside another
	q B "www.game$i.test" A			# every entry matches its subdomains
	if [ $((i % 2)) = 0 ]; then q B "ADULT$i.TeSt" AAAA	# case does not matter
	else q A "social$i.test" AAAA; fi
done
sed 's/^10\.77\.9\.1 \(.*\)/fd77:9::1 \1/' "$T/hosts" >>"$T/hosts"
NB=$(grep -c '^B ' "$T/labels"); NA=$(grep -c '^A ' "$T/labels")
LINES=$((NB + NA))
echo "# query file: $LINES lines, $NB blocked, $NA allowed; $PASSES passes per family at $RATE/s"

# conf ORDER: writes the config, atomically, with the categories in order
# ORDER (0: adult games social, 1: social games adult).
conf() {
	local l1 l2 l3
	l1='{ category = "adult"; files = [ "adult.domains" ]; }'
	l2='{ category = "games"; files = [ "games.hosts" ]; }'
	l3='{ category = "social"; files = [ "social.domains" ]; }'
	[ "$1" = 1 ] && { local t=$l1; l1=$l3; l3=$t; }
	cat >"$T/sg.conf.tmp" <<CONF
queue = { numbers = [ $Q1, $Q2 ]; fail_open = true; max_len = 4096; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( $l1,
          $l2,
          $l3 );
block = [ "adult", "games" ];
log = { events = "$T/events.jsonl"; level = "info"; };
control = { socket = "$T/control.sock"; };
CONF
	mv "$T/sg.conf.tmp" "$T/sg.conf"
}
# set_in ORDER: puts set ORDER in place as lists.sgdb, by rename: the
# running daemon's mapping keeps the old file until the reload.
set_in() { cp "$T/set$1.sgdb" "$T/lists.sgdb.tmp" && mv "$T/lists.sgdb.tmp" "$T/lists.sgdb"; }

for o in 0 1; do
	conf $o
	"$LISTS" compile -c "$T/sg.conf" -o "$T/set$o.sgdb" >"$T/compile$o.out" 2>&1 ||
		{ not_ok "compile set $o"; cat "$T/compile$o.out"; exit 1; }
done
check "the two sets differ (categories in another order)" \
	sh -c "! cmp -s '$T/set0.sgdb' '$T/set1.sgdb'"
check_out "set 0 numbers adult first" '^adult.*games.*social' \
	sh -c "'$LISTS' stats '$T/set0.sgdb' | grep -oE 'adult|games|social' | tr '\n' ' '"
check_out "set 1 numbers social first" '^social.*games.*adult' \
	sh -c "'$LISTS' stats '$T/set1.sgdb' | grep -oE 'adult|games|social' | tr '\n' ' '"
conf 0; set_in 0

dig1() { in_lan dig +time=2 +tries=1 "$@"; }
dnsmasq_quiet() {	# no --log-queries: tens of thousands of queries follow
	ip netns exec "$RTR" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--addn-hosts="$T/hosts" --listen-address=10.77.0.1,fd77::1 \
		--bind-interfaces --user=root --group=root --pid-file="$T/dnsmasq.pid" \
		--local-ttl=60 --cache-size=0 --log-facility="$T/dnsmasq.log" &
	echo $! >"$T/dnsmasq.bgpid"
}
dnsmasq_quiet
wait_dns dig1 @10.77.0.1 ok1.test || { not_ok "router dnsmasq answers"; exit 1; }
check_out "without safegated, dnsmasq answers a blocked name" '10\.77\.9\.1' \
	dig1 @10.77.0.1 adult1.test +short

sg_start || { not_ok "safegated starts"; exit 1; }
ok "safegated starts on the mapped set"
check_out "status: the set is mapped" '^set mapped$' ctl status
check_out "status: generation 1" '^generation 1$' ctl status

# policy_same WHAT: the running policy, by queries: blocked names blocked,
# allowed ones (a listed, unblocked category among them) answered.
policy_same() {
	check_out "$1: adult3.test still NXDOMAIN" 'status: NXDOMAIN' dig1 @10.77.0.1 adult3.test
	check_out "$1: game4.test AAAA over IPv6 still NXDOMAIN" 'status: NXDOMAIN' \
		dig1 @fd77::1 game4.test AAAA
	check_out "$1: ok5.test still answered" '^10\.77\.9\.1$' dig1 @10.77.0.1 ok5.test +short
	check_out "$1: social6.test (not blocked) still answered" '^10\.77\.9\.1$' \
		dig1 @10.77.0.1 social6.test +short
}
policy_same "before the load"

# --- two workers ------------------------------------------------------------------
# --queue-balance spreads by a hash of the addresses alone (random per
# boot), so one client address always lands on one queue.  Pick an IPv4
# source that lands on the first queue and an IPv6 one that lands on the
# second: both workers then hold snapshots while the reloads go on.
qpkts() { ctl stats | awk -v k="queue$1_packets" '$1 == k { print $2 }'; }
lands() {	# lands ADDR SERVER: the queue a query from ADDR goes to
	local a b
	a=$(qpkts $Q1); b=$(qpkts $Q2)
	dig1 -b "$1" @"$2" ok1.test +short >/dev/null
	if [ "$(qpkts $Q1)" != "$a" ]; then echo $Q1
	elif [ "$(qpkts $Q2)" != "$b" ]; then echo $Q2
	else echo none; fi
}
SRC4= SRC6=
for k in $(seq 10 41); do
	ip -n "$LAN" addr add 10.77.0.$k/24 dev "sgl$ID"
	ip -n "$LAN" addr add fd77::$k/64 dev "sgl$ID" nodad
done
for k in $(seq 10 41); do
	[ -z "$SRC4" ] && [ "$(lands 10.77.0.$k 10.77.0.1)" = $Q1 ] && SRC4=10.77.0.$k
	[ -z "$SRC6" ] && [ "$(lands fd77::$k fd77::1)" = $Q2 ] && SRC6=fd77::$k
	[ -n "$SRC4" ] && [ -n "$SRC6" ] && break
done
check "an IPv4 client on queue $Q1 ($SRC4) and an IPv6 one on queue $Q2 ($SRC6)" \
	test -n "$SRC4" -a -n "$SRC6"

# --- under load: 20 reloads --------------------------------------------------------
# stats_sum FILE PATTERN: the sum of the counters whose names match.
stats_sum() { awk -v p="$2" '$1 ~ p { s += $2 } END { print s + 0 }' "$1"; }
# kernel_drops: what the kernel counted as dropped on our queues.  (With
# fail_open, what overflows passes unfiltered and uncounted here: the
# per-query answers and the packet counts below catch that.)
kernel_drops() {
	in_rtr cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk -v a=$Q1 -v b=$Q2 '$1 == a || $1 == b { s += $6 + $7 } END { print s + 0 }'
}
# A reload of each kind, checked: the reply (or the log, for SIGHUP) must
# name the generation it made.
GEN=1
: >"$T/reloads.log"
reload_one() {	# reload_one I
	local i=$1 t r
	conf $((i % 2))
	set_in $(((i / 2) % 2))
	GEN=$((GEN + 1))
	t=$EPOCHREALTIME
	if [ $((i % 2)) = 1 ]; then
		kill -HUP "$SG_PID"
		r=fail
		for _ in $(seq 1 500); do
			if grep -q "reloaded .*: generation $GEN," "$T/safegated.log"; then r=ok; break; fi
			sleep 0.01
		done
		echo "$i sighup $r gen $GEN $(( (${EPOCHREALTIME/./} - ${t/./}) / 1000 ))ms" >>"$T/reloads.log"
	else
		if out=$(ctl reload 2>&1) && [ "$out" = "generation $GEN" ]; then r=ok
		else r="fail ($out)"; fi
		echo "$i ctl $r gen $GEN $(( (${EPOCHREALTIME/./} - ${t/./}) / 1000 ))ms" >>"$T/reloads.log"
	fi
}

ctl stats >"$T/st0"; kd0=$(kernel_drops)
ev0=$(wc -l <"$T/events.jsonl")
tl=$EPOCHREALTIME
in_lan dnsperf -s 10.77.0.1 -a "${SRC4:-10.77.0.2}" -d "$T/queries" -n "$PASSES" -Q "$RATE" -c 4 -q 100 -t 3 -v \
	>"$T/perf4.out" 2>"$T/perf4.err" &
P4=$!
in_lan dnsperf -s fd77::1 -a "${SRC6:-fd77::2}" -d "$T/queries" -n "$PASSES" -Q "$RATE" -c 4 -q 100 -t 3 -v \
	>"$T/perf6.out" 2>"$T/perf6.err" &
P6=$!
sleep 0.3
during=0
for i in $(seq 1 $RELOADS); do
	reload_one "$i"
	if kill -0 $P4 2>/dev/null && kill -0 $P6 2>/dev/null; then during=$((during + 1)); fi
	sleep 0.1
done
tr=$EPOCHREALTIME
wait $P4; s4=$?
wait $P6; s6=$?
te=$EPOCHREALTIME
# The event log's writer may still be draining its queue on a busy machine:
# up to 10 s for it to catch up (its queue empty, and events_written the
# same twice running).
w0=-1
for i in $(seq 1 100); do
	ctl stats >"$T/st1"
	w1=$(stats_sum "$T/st1" '^events_written$')
	[ "$(stats_sum "$T/st1" '^events_queued_bytes$')" = 0 ] && [ "$w1" = "$w0" ] && break
	w0=$w1
	sleep 0.1
done
kd1=$(kernel_drops)
echo "# reloads: $(awk '{ printf "%s%s:%s ", $2 == "ctl" ? "c" : "h", $1, $NF }' "$T/reloads.log")"
ms() { echo $(( (${2/./} - ${1/./}) / 1000 )); }
echo "# load $(ms "$tl" "$te") ms; the $RELOADS reloads done $(ms "$tl" "$tr") ms in"

check "dnsperf (IPv4) ran" test "$s4" = 0
check "dnsperf (IPv6) ran" test "$s6" = 0
check_out "all $RELOADS reloads said ok, with their generation" "^$RELOADS\$" \
	grep -c ' ok gen ' "$T/reloads.log"
# The load lasts PASSES x 100 / RATE seconds whatever the machine; a slow
# one (a sanitizer build, other work) may finish the last reloads after
# it.  Most must fall inside it for the test to mean anything.
check "at least $((RELOADS / 2)) of the $RELOADS reloads ran while both dnsperf runs were going ($during)" \
	test "$during" -ge $((RELOADS / 2))
check "safegated is still running" kill -0 "$SG_PID"

# dnsperf's figures, per family
SENT=$((LINES * PASSES))
for f in 4 6; do
	sed -n '/^Statistics:/,$p' "$T/perf$f.out" | sed 's/^/#   /'
	check_out "IPv$f: sent $SENT queries" "Queries sent: +$SENT\$" cat "$T/perf$f.out"
	check_out "IPv$f: completed $SENT" "Queries completed: +$SENT " cat "$T/perf$f.out"
	check_out "IPv$f: 0 lost" 'Queries lost: +0 ' cat "$T/perf$f.out"
	# "Response codes: NOERROR 9600 (60.00%), NXDOMAIN 6400 (40.00%)"
	check_out "IPv$f: exactly $((NA * PASSES)) NOERROR and $((NB * PASSES)) NXDOMAIN" \
		"Response codes: +NOERROR $((NA * PASSES)) \\([0-9.]+%\\), NXDOMAIN $((NB * PASSES)) \\([0-9.]+%\\)\$" \
		cat "$T/perf$f.out"
	# Every query its own right answer: "> RCODE NAME TYPE SECONDS".
	check_out "IPv$f: every query got its own right answer" "^right $SENT wrong 0\$" \
		awk 'FNR == NR { want[tolower($2) " " $3] = $1 == "B" ? "NXDOMAIN" : "NOERROR"; next }
		$1 == ">" { if (want[tolower($3) " " $4] == $2) r++; else { w++; if (w <= 5) print "wrong:", $0 } }
		END { printf "right %d wrong %d\n", r, w }' "$T/labels" "$T/perf$f.out"
done

# safegated's counters over the run: one verdict per packet, nothing else
d() { echo $(( $(stats_sum "$T/st1" "$1") - $(stats_sum "$T/st0" "$1") )); }
echo "# safegated over the run: packets q$Q1 $(d "^queue${Q1}_packets\$") q$Q2 $(d "^queue${Q2}_packets\$"), drop_blocked $(d '^drop_blocked$'), accept_allowed $(d '^accept_allowed$')"
check "each worker had one client's queries (queue $Q1: IPv4, queue $Q2: IPv6)" \
	test "$(d "^queue${Q1}_packets\$")" = $SENT -a "$(d "^queue${Q2}_packets\$")" = $SENT
check "every query reached safegated ($((2 * SENT)) packets)" \
	test "$(d '^queue[0-9]+_packets$')" = $((2 * SENT))
check "every packet got exactly one verdict" \
	test "$(d '^queue[0-9]+_verdicts$')" = "$(d '^queue[0-9]+_packets$')"
check "blocked: $((2 * NB * PASSES)) drop_blocked" test "$(d '^drop_blocked$')" = $((2 * NB * PASSES))
check "allowed: $((2 * NA * PASSES)) accept_allowed" test "$(d '^accept_allowed$')" = $((2 * NA * PASSES))
check "no other outcome" test "$(d '^(accept|drop)_')" = $((2 * SENT))
check "no enobufs, verdict or socket error, bad message, inject or event error" \
	test "$(d '_(enobufs|verdict_errors|bad_messages)$|^(inject|event|socket)_errors$')" = 0
check "the kernel counted no drop on our queues" test "$((kd1 - kd0))" = 0
check "an event per blocked query" test "$(d '^events_written$')" = $((2 * NB * PASSES))
check "the events file has them" test "$(( $(wc -l <"$T/events.jsonl") - ev0 ))" = $((2 * NB * PASSES))
check_out "stats: reloads $RELOADS" "^reloads $RELOADS\$" ctl stats
check_out "stats: reload_failures 0" '^reload_failures 0$' ctl stats
check_out "status: generation $((1 + RELOADS))" "^generation $((1 + RELOADS))\$" ctl status
check_not_out "the log has no reload failure or warning" 'reload failed|category .* is blocked but|older than' \
	cat "$T/safegated.log"
# The old sets are unmapped: one mapping of lists.sgdb, the current file.
check_out "the daemon maps one lists.sgdb, the current one, no replaced one" \
	"^1 $(command stat -c %i "$T/lists.sgdb")\$" \
	sh -c "grep -F '$T/lists.sgdb' /proc/$SG_PID/maps | awk '{ print \$5 }' | sort -u | awk '{ n++; i = \$1 } END { print n, i }'"
policy_same "after the load"

# --- broken reloads: refused, with why; the policy stays ------------------------------
fails=0
refused() {	# refused WHAT PATTERN: ctl reload and SIGHUP, both refused
	local pat=$2 mark
	check_out "$1: safegatectl reload refused, saying why" "^error: .*$pat" ctl reload
	sed 's/^/#   reply: /' "$T/last.out"
	check "$1: safegatectl reload exits non-zero" sh -c "! ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/control.sock' reload"
	mark=$(wc -l <"$T/safegated.log")
	kill -HUP "$SG_PID"
	for _ in $(seq 1 300); do
		tail -n +$((mark + 1)) "$T/safegated.log" | grep -q 'reload failed' && break
		sleep 0.01
	done
	check_out "$1: SIGHUP refused, the log says why" "reload failed, keeping the running policy: .*$pat" \
		sh -c "tail -n +$((mark + 1)) '$T/safegated.log'"
	fails=$((fails + 3))	# two safegatectl reloads and a SIGHUP
	check_out "$1: reload_failures $fails" "^reload_failures $fails\$" ctl stats
	check_out "$1: generation unchanged" "^generation $((1 + RELOADS))\$" ctl status
	policy_same "$1"
}

# A syntax error: the reply names FILE:LINE.
conf 0
sed -i 's/^block = \[/block [/' "$T/sg.conf"
line=$(grep -n '^block \[' "$T/sg.conf" | cut -d: -f1)
refused "syntax error" "$T/sg\\.conf:$line: syntax error"

# A list file that is not there.  With lists_db present the list files are
# only its sources; a config whose lists_db is not there compiles them.
conf 0
sed -i -e 's/"games\.hosts"/"missing.hosts"/' -e "s|lists_db = .*|lists_db = \"$T/none.sgdb\";|" "$T/sg.conf"
refused "missing list file" "missing\\.hosts.*(No such file|not found)"

# A truncated set.
conf 0
head -c 1000 "$T/set0.sgdb" >"$T/lists.sgdb.tmp"; mv "$T/lists.sgdb.tmp" "$T/lists.sgdb"
refused "truncated set" "lists\\.sgdb: .*truncated"

# A set with bytes flipped in its body.
size=$(command stat -c %s "$T/set0.sgdb")
cp "$T/set0.sgdb" "$T/lists.sgdb.tmp"
printf '\377\377\377\377' | dd of="$T/lists.sgdb.tmp" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
mv "$T/lists.sgdb.tmp" "$T/lists.sgdb"
check_out "(safegate-lists check agrees it is damaged)" 'damaged' "$LISTS" check "$T/lists.sgdb"
refused "flipped bytes in the set" "lists\\.sgdb: .*damaged"

# And a good one again is taken.
set_in 1
check_out "a good set is taken again" "^generation $((2 + RELOADS))\$" ctl reload
policy_same "after the good reload"

safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
echo "# whole test: $(ms "$t0" "$EPOCHREALTIME") ms"
finish
