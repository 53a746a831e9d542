#!/usr/bin/env bash
# dns.sh - DNS filtering end to end: real NFQUEUE in namespaces, dnsmasq as
# the router's resolver and as a resolver "outside", dig and drill as
# clients, over IPv4 and IPv6, UDP and TCP, on INPUT, FORWARD and OUTPUT.
. "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
net_up

cat >"$T/hosts" <<HOSTS
10.77.9.1 allowed.test
fd77:9::1 allowed.test
10.77.9.2 blocked.test www.blocked.test deep.sub.blocked.test
fd77:9::2 blocked.test www.blocked.test
10.77.9.3 notblocked.test newly.test
HOSTS
cat >"$T/e2e.domains" <<LIST
# the e2e test list: reserved names only
blocked.test
LIST

# conf MODE FAIL_OPEN: writes $T/sg.conf
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 7 ]; fail_open = $2; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "$1"; ttl = 120;
        block_page = [ "192.0.2.80", "2001:db8::80" ]; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
lists = ( { category = "testcat"; files = [ "e2e.domains" ]; } );
block = [ "testcat" ];
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; };
CONF
}

dig1() { in_lan dig +time=2 +tries=1 "$@"; }

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,fd77::1,127.0.0.1 "$T/hosts"
dnsmasq_start "$WAN" wan-dnsmasq 10.78.0.2,fd78::2 "$T/hosts"
wait_dns dig1 @10.77.0.1 allowed.test || { not_ok "router dnsmasq answers"; exit 1; }
wait_dns dig1 @10.78.0.2 allowed.test || { not_ok "wan dnsmasq answers"; exit 1; }

# A query dnsmasq answers but safegated must drop: a question name whose
# compression pointer points forwards (id 0x5a5a, one question).
MALFORMED=5a5a01000001000000000000c00e00010001
check_out "without safegated, dnsmasq answers blocked.test" '10\.77\.9\.2' \
	dig1 @10.77.0.1 blocked.test A +short
check_out "without safegated, dnsmasq answers the malformed query" '^5a5a' \
	in_lan "$TOP/$BUILD/tools/sg-udp" 10.77.0.1 53 $MALFORMED 1500

LOGMARK=$(wc -l <"$T/rtr-dnsmasq.log")
conf nxdomain true
safegated_start "$T/sg.conf" || { not_ok "safegated starts"; exit 1; }
ok "safegated starts and puts its rules up"

# --- nxdomain, every path --------------------------------------------------
for srv in 10.77.0.1 fd77::1; do
	check_out "udp $srv: listed name is NXDOMAIN" 'status: NXDOMAIN' \
		dig1 @$srv blocked.test A
	check_out "udp $srv: subdomain is NXDOMAIN" 'status: NXDOMAIN' \
		dig1 @$srv deep.sub.blocked.test AAAA
	check_out "udp $srv: mixed case is NXDOMAIN" 'status: NXDOMAIN' \
		dig1 @$srv WwW.BlOcKeD.TeSt A
	check_out "udp $srv: unlisted name gets dnsmasq's answer" \
		'^allowed\.test\..*IN.*A.*10\.77\.9\.1' dig1 @$srv allowed.test A +noall +answer
	check_out "udp $srv: a lookalike is not blocked" '10\.77\.9\.3' \
		dig1 @$srv notblocked.test +short
	check_out "tcp $srv: listed name: connection reset" \
		'connection reset|communications error|end of file' dig1 @$srv blocked.test A +tcp
	check_out "tcp $srv: unlisted name answered" '10\.77\.9\.1' \
		dig1 @$srv allowed.test A +tcp +short
done
check_out "answer keeps id, question and RD (drill)" 'rcode: NXDOMAIN' \
	in_lan drill @10.77.0.1 blocked.test A
check_out "answer keeps the RD flag" 'flags: qr aa rd ra;' dig1 @10.77.0.1 blocked.test
check_out "answer keeps RD clear" 'flags: qr aa ra;' dig1 @10.77.0.1 blocked.test +nordflag
check_out "answer has the question" '^;blocked\.test\.[[:space:]]+IN[[:space:]]+MX' \
	dig1 @10.77.0.1 blocked.test MX
check_out "FORWARD: query to an outside resolver is blocked" 'status: NXDOMAIN' \
	dig1 @10.78.0.2 www.blocked.test A
check_out "FORWARD: answer comes from the outside resolver's address" \
	'SERVER: 10\.78\.0\.2#53' dig1 @10.78.0.2 www.blocked.test A
check_out "FORWARD ipv6: blocked" 'status: NXDOMAIN' dig1 @fd78::2 blocked.test AAAA
check_out "FORWARD: unlisted name passes" '10\.77\.9\.1' dig1 @10.78.0.2 allowed.test +short
check_out "FORWARD tcp: blocked name reset" 'connection reset|communications error|end of file' \
	dig1 @10.78.0.2 blocked.test +tcp
check_out "OUTPUT: the router's own query is blocked" 'status: NXDOMAIN' \
	in_rtr dig +time=2 +tries=1 @127.0.0.1 blocked.test
check_out "OUTPUT: the router's own query for an unlisted name passes" '10\.77\.9\.1' \
	in_rtr dig +time=2 +tries=1 @127.0.0.1 allowed.test +short

# --- malformed input is dropped, and counted -------------------------------
before=$(stat drop_malformed)
check_out "a malformed query gets no answer" '^timeout' \
	in_lan "$TOP/$BUILD/tools/sg-udp" 10.77.0.1 53 $MALFORMED 1500
after=$(stat drop_malformed)
check "the drop is counted ($before -> $after)" test "$after" -gt "$before"
# Not a vacuous count: the same stretch of dnsmasq's log holds the
# allowed queries that passed.
check_out "dnsmasq logged the allowed queries that passed" 'query\[A\] allowed\.test from 10\.77\.0\.2' \
	sh -c "tail -n +$((LOGMARK + 1)) '$T/rtr-dnsmasq.log'"
check_out "dnsmasq never saw a blocked query" '^0$' \
	sh -c "tail -n +$((LOGMARK + 1)) '$T/rtr-dnsmasq.log' | grep -ciE 'query\\[[A-Z0-9]+\\] ([a-z.]*\\.)?blocked\\.test from'"

# --- the events file ----------------------------------------------------------
check_out "events: a JSON line per blocked query" \
	'"kind":"dns","transport":"udp","client":"10\.77\.0\.2","mac":"[0-9a-f:]{17}","device":null,"profile":"default","name":"blocked\.test","qtype":"A","categories":\["testcat"\],"rule":"blocked\.test","reason":"category","action":"nxdomain"' \
	cat "$T/events.jsonl"
check_out "events: tcp resets are recorded" '"transport":"tcp".*"action":"reset"' cat "$T/events.jsonl"
check_out "events: ipv6 clients are recorded" '"client":"fd77::2"' cat "$T/events.jsonl"
check_not_out "events: allowed names are not recorded" 'allowed\.test' cat "$T/events.jsonl"

# --- null and address modes, by reload ---------------------------------------
conf null true
kill -HUP "$SG_PID"; sleep 0.5
check_out "null: A is 0.0.0.0" '^0\.0\.0\.0$' dig1 @10.77.0.1 blocked.test A +short
check_out "null: AAAA is ::" '^::$' dig1 @10.77.0.1 www.blocked.test AAAA +short
any_short() { in_lan dig +time=2 +tries=1 +notcp @fd77::1 blocked.test ANY +short | sort | tr '\n' ' '; }
check_out "null: ANY over udp gets both (dig asks ANY over tcp by default)" \
	'^0\.0\.0\.0 :: $' any_short
check_out "null: HTTPS is NOERROR, no data" 'status: NOERROR.*ANSWER: 0' \
	sh -c "ip netns exec $LAN dig +time=2 +tries=1 @10.77.0.1 blocked.test TYPE65 | tr '\n' ' '"
check_out "null: SVCB is NOERROR, no data" 'status: NOERROR.*ANSWER: 0' \
	sh -c "ip netns exec $LAN dig +time=2 +tries=1 @10.77.0.1 blocked.test TYPE64 | tr '\n' ' '"
check_out "null: MX is NXDOMAIN" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test MX
check_out "null: answer TTL is the configured one" 'blocked\.test\.[[:space:]]+120[[:space:]]+IN[[:space:]]+A' \
	dig1 @10.77.0.1 blocked.test A +noall +answer

conf address true
kill -HUP "$SG_PID"; sleep 0.5
check_out "address: A is the block page" '^192\.0\.2\.80$' dig1 @10.77.0.1 blocked.test A +short
check_out "address: AAAA is the block page" '^2001:db8::80$' dig1 @fd77::1 blocked.test AAAA +short
check_out "address: events say so" '"action":"address"' tail -1 "$T/events.jsonl"

# --- reloads: lists change, a broken config changes nothing ------------------
check_out "before reload, newly.test resolves" '10\.77\.9\.3' dig1 @10.77.0.1 newly.test +short
echo newly.test >>"$T/e2e.domains"
check "reload through safegatectl" ctl reload
check_out "after reload, newly.test is blocked" '^192\.0\.2\.80$' dig1 @10.77.0.1 newly.test +short
sed -i 's/block_response = "address"/block_response = "bogus"/' "$T/sg.conf"
check_out "a broken config is refused with FILE:LINE" "sg\.conf:[0-9]+: .*block_response" ctl reload
kill -HUP "$SG_PID"; sleep 0.3
check_out "SIGHUP with a broken config is logged" 'reload failed, keeping the running policy' \
	cat "$T/safegated.log"
check_out "the running policy is unchanged" '^192\.0\.2\.80$' dig1 @10.77.0.1 blocked.test +short
check_out "status names the generation" 'generation 4' ctl status

# --- clean stop -----------------------------------------------------------
safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
check_out "after a clean stop, no safegate rule is left" '^0$' rules_left
check_out "after a clean stop, blocked.test resolves again" '10\.77\.9\.2' \
	dig1 @10.77.0.1 blocked.test +short

# --- rules: idempotent, removable -------------------------------------------
conf nxdomain true
in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R up >/dev/null
in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R up >/dev/null
# The backend is the kernel's to choose: nft where it has the queue
# expression (one table for both families), iptables otherwise.
if in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R show | grep -q '^# nft'; then
	echo "# backend: nft"
	check_out "rules put up twice: one copy of each rule (nft)" '^7$' \
		sh -c "ip netns exec $RTR nft list table inet safegate | grep -c 'queue '"
	check_out "rules put up twice: one table" '^1$' \
		sh -c "ip netns exec $RTR nft list tables | grep -c 'inet safegate'"
else
	echo "# backend: iptables"
	for t in iptables ip6tables; do
		check_out "rules put up twice: one jump per chain ($t)" '^3$' \
			sh -c "ip netns exec $RTR $t -S | grep -c -- '-j SAFEGATE_'"
		check_out "rules put up twice: one copy of each rule ($t)" '^10$' \
			sh -c "ip netns exec $RTR $t -S | grep -c -- 'NFQUEUE'"
	done
	# This kernel has no nft queue expression: asking for nft must fail
	# cleanly, saying why, and leave nothing behind.
	in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down
	sed 's/backend = "auto"/backend = "nft"/' "$T/sg.conf" >"$T/nft.conf"
	ip netns exec "$RTR" "$TOP/$BUILD/safegated" -f $SG_USER -c "$T/nft.conf" >"$T/nft.log" 2>&1
	check "backend nft without the kernel's queue expression: refused" test $? -ne 0
	check_out "and says why" 'no nft queue expression' cat "$T/nft.log"
	check_out "and leaves no rule" '^0$' rules_left
	in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R up >/dev/null
fi
check_out "fail_open: the rules use the queue bypass" 'bypass' our_rules
in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down
check_out "safegated -R down removes every rule" '^0$' rules_left

# --- kill -9: fail-open keeps DNS working, fail-closed stops it --------------
conf nxdomain true
safegated_start "$T/sg.conf" || not_ok "safegated restarts"
check_out "fail-open: filtering before the kill" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test
kill -9 "$SG_PID"; wait "$SG_PID" 2>/dev/null; SG_PID=
check_out "fail-open: after kill -9 the rules are still there" '^[1-9]' rules_left
check_out "fail-open: after kill -9, queries still resolve" '10\.77\.9\.1' \
	dig1 @10.77.0.1 allowed.test +short
check_out "fail-open: after kill -9, tcp queries still resolve" '10\.77\.9\.1' \
	dig1 @10.77.0.1 allowed.test +short +tcp
in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down

conf nxdomain false
safegated_start "$T/sg.conf" || not_ok "safegated restarts fail-closed"
check_out "fail-closed: allowed names resolve while running" '10\.77\.9\.1' \
	dig1 @10.77.0.1 allowed.test +short
check_out "fail-closed: the rules are up" 'NFQUEUE|queue ' our_rules
check_not_out "fail-closed: no queue bypass in the rules" 'bypass' our_rules
kill -9 "$SG_PID"; wait "$SG_PID" 2>/dev/null; SG_PID=
check_out "fail-closed: after kill -9, queries time out" 'timed out|no servers could be reached' \
	dig1 @10.77.0.1 allowed.test
in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down
check_out "after -R down, queries resolve again" '10\.77\.9\.1' dig1 @10.77.0.1 allowed.test +short

finish
