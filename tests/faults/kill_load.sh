#!/usr/bin/env bash
# kill_load.sh - safegated killed with SIGKILL while queries are running,
# with queue.fail_open = true and = false, then started again.
#
# tests/e2e/kill.sh kills it during a download (a decided connection lives
# on) and tests/e2e/devices_fw.sh asks one query per device after the kill;
# neither has queries in flight at the kill nor a restart.  Here a client
# in lan sends a steady stream of queries (RATE a second, a blocked name
# and allowed ones in turn, each waiting up to 1 s) to the router's
# dnsmasq, which knows every name: a blocked name answered NOERROR went
# past safegated.  The stream runs through three phases:
#
#   running   safegated filters: every query answered, blocked ones
#             NXDOMAIN (forged by safegated);
#   killed    SIGKILL; the rules stay up with nobody reading the queue:
#             fail_open = true (--queue-bypass) lets everything through
#             unfiltered (blocked.test NOERROR), fail_open = false drops
#             everything;
#   restarted safegated started again over the rules the kill left: every
#             query answered, with its verdict, once it says "filtering".
#
# Queries sent in the 100 ms around the kill and during the restart are
# counted apart (the kernel drops what sat in the queue when the socket
# closed, fail-open or not).  Knobs: RATE (200), PHASE (2 s).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { echo "not ok - python3 missing: run 'make deps'"; exit 1; }
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up
# The daemon may run as the user safegate (priv.h): $T readable, and what
# it writes (control socket, state, events) in folders it makes itself.
chmod 0755 "$T"
ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }

RATE=${RATE:-200}
PHASE=${PHASE:-2}

{ echo "10.77.9.1 blocked.test"; for i in 1 2 3; do echo "10.77.9.1 ok$i.test"; done; } \
	>"$T/rtr.hosts"
printf '%s\n' '# reserved names only' blocked.test >"$T/kill.domains"
conf() {	# conf FAIL_OPEN
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 14 ]; fail_open = $1; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "testcat"; files = [ "kill.domains" ]; } );
block = [ "testcat" ];
log = { level = "info"; };
control = { socket = "$T/ctl/control.sock"; };
CONF
}


# phase FILE FROM TO: counts of the queries sent in [FROM, TO):
# "sent N answered N lost N blocked_nx N blocked_noerror N allowed_ok N".
phase() {
	awk -v a="$2" -v b="$3" '$1 >= a && $1 < b {
		n++; if ($3 == "lost") l++; else ans++
		if ($2 == "blocked.test" && $3 == "NXDOMAIN") bnx++
		if ($2 == "blocked.test" && $3 == "NOERROR") bok++
		if ($2 != "blocked.test" && $3 == "NOERROR") aok++
	} END { printf "sent %d answered %d lost %d blocked_nx %d blocked_noerror %d allowed_ok %d\n",
		n, ans, l, bnx, bok, aok }' "$1"
}
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
now() { date +%s.%N; }
after() { awk -v a="$1" -v d="$2" 'BEGIN { printf "%.6f", a + d }'; }

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1 "$T/rtr.hosts"
dig1() { in_lan dig +time=1 +tries=1 @10.77.0.1 "$@"; }
wait_dns dig1 ok1.test || { not_ok "router dnsmasq answers"; exit 1; }

for mode in true false; do
	conf $mode
	"$TOP/$BUILD/safegate-lists" compile -c "$T/sg.conf" -o "$T/lists.sgdb" >/dev/null 2>&1
	sg_start || { not_ok "fail_open=$mode: safegated starts"; exit 1; }
	out="$T/load-$mode"
	load 10.77.0.1 "$RATE" $((3 * PHASE + 1)) 1 "$out" blocked.test ok1.test ok2.test ok3.test &
	lp=$!
	t_start=$(now)
	sleep "$PHASE"
	t_kill=$(now)
	kill -KILL "$SG_PID"
	wait "$SG_PID" 2>/dev/null
	SG_PID=
	sleep "$PHASE"
	t_restart=$(now)
	sg_start || { not_ok "fail_open=$mode: safegated starts again over the rules left up"; exit 1; }
	t_up=$(now)
	wait $lp
	t_end=$(now)
	p1=$(phase "$out" 0 "$t_kill")
	pk=$(phase "$out" "$t_kill" "$(after "$t_kill" 0.1)")
	p2=$(phase "$out" "$(after "$t_kill" 0.1)" "$t_restart")
	pr=$(phase "$out" "$t_restart" "$(after "$t_up" 0.1)")
	p3=$(phase "$out" "$(after "$t_up" 0.1)" 9e9)
	echo "# fail_open=$mode, $RATE queries/s (1 in 4 blocked.test):"
	echo "#   running:    $p1"
	echo "#   kill ±0.1s: $pk"
	echo "#   killed:     $p2"
	echo "#   restarting: $pr ($(awk -v a="$t_restart" -v b="$t_up" 'BEGIN { printf "%.0f", (b - a) * 1000 }') ms to 'filtering')"
	echo "#   restarted:  $p3"

	check "fail_open=$mode running: queries were sent ($(field "$p1" sent))" \
		test "$(field "$p1" sent)" -ge $((RATE * PHASE * 3 / 4))
	check "fail_open=$mode running: none lost" test "$(field "$p1" lost)" = 0
	check "fail_open=$mode running: every blocked.test NXDOMAIN, every allowed name answered" \
		test "$(( $(field "$p1" blocked_nx) + $(field "$p1" allowed_ok) ))" = "$(field "$p1" sent)"
	if [ $mode = true ]; then
		check "fail_open=true killed: every query answered ($(field "$p2" answered)/$(field "$p2" sent))" \
			test "$(field "$p2" answered)" = "$(field "$p2" sent)" -a "$(field "$p2" sent)" -gt 0
		check "fail_open=true killed: blocked.test goes through unfiltered (NOERROR: $(field "$p2" blocked_noerror))" \
			test "$(field "$p2" blocked_noerror)" -gt 0 -a "$(field "$p2" blocked_nx)" = 0
	else
		check "fail_open=false killed: every query dropped ($(field "$p2" lost)/$(field "$p2" sent) lost)" \
			test "$(field "$p2" lost)" = "$(field "$p2" sent)" -a "$(field "$p2" sent)" -gt 0
	fi
	check "fail_open=$mode restarted: queries were sent ($(field "$p3" sent))" \
		test "$(field "$p3" sent)" -gt $((RATE / 2))
	check "fail_open=$mode restarted: none lost" test "$(field "$p3" lost)" = 0
	check "fail_open=$mode restarted: verdicts are back (blocked.test NXDOMAIN, the rest answered)" \
		test "$(( $(field "$p3" blocked_nx) + $(field "$p3" allowed_ok) ))" = "$(field "$p3" sent)"
	check_out "fail_open=$mode restarted: safegated counted the restarted phase's queries" \
		'^ok$' sh -c "[ \$(ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/ctl/control.sock' stats |
			awk '\$1 == \"queue14_packets\" { print \$2 }') -ge $(field "$p3" sent) ] && echo ok"
	safegated_stop
	check "fail_open=$mode: a clean stop after the restart exits 0" test "$SG_STATUS" = 0
	check_out "fail_open=$mode: and takes its rules down" '^0$' rules_left
done
finish
