#!/usr/bin/env bash
# upstream_down.sh - the upstream resolver stops mid-run, then comes back.
#
#   lan (kid) -> router: dnsmasq (forwards, no cache) -> wan: dnsmasq
#                        safegated                       (the upstream)
#
# safegated's own resolver thread (daemon/safehosts.c) asks the router's
# dnsmasq (dns.resolver 127.0.0.1) for the safe search hosts, so it too
# depends on the upstream.  The upstream answers with TTL 1, which the
# thread clamps to its 30 s minimum: it asks again after 24 s and the
# addresses expire after 30 s.  The upstream is killed 3 s after the start
# and started again at 36 s.  Meanwhile:
#
#   - blocked.test is NXDOMAIN, answered by safegated itself;
#   - ok.test gets whatever dnsmasq makes of a dead upstream (not an
#     address: SERVFAIL, REFUSED or nothing), printed;
#   - www.google.com, safe search on, is still the CNAME to
#     forcesafesearch.google.com with its address: fresh until 30 s, then
#     served stale (up to an hour) while the thread asks again with
#     backoff;
#   - the log says the outage once (not once per name and attempt), and
#     its end once.
#
# When the upstream is back, ok.test is answered again, the thread gets
# its answers (within its backoff, at most a minute) and the log says so.
. "$(dirname "$0")/../e2e/lib.sh"
need_root
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up
# The daemon may run as the user safegate (priv.h): $T readable, and what
# it writes (control socket, state, events) in folders it makes itself.
chmod 0755 "$T"
ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }

cat >"$T/wan.hosts" <<HOSTS
10.78.0.20 ok.test
10.78.0.21 blocked.test
10.78.0.2 forcesafesearch.google.com restrict.youtube.com restrictmoderate.youtube.com
10.78.0.2 strict.bing.com safe.duckduckgo.com forcesafe.search.brave.com
10.78.0.2 strict-safe-search.ecosia.org
fd78::2 forcesafesearch.google.com restrict.youtube.com restrictmoderate.youtube.com
fd78::2 strict.bing.com safe.duckduckgo.com forcesafe.search.brave.com
fd78::2 strict-safe-search.ecosia.org
10.78.0.3 www.google.com
HOSTS
printf '%s\n' '# reserved names only' blocked.test >"$T/bl.domains"
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 18 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; resolver = "127.0.0.1"; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
dhcp_leases = "";
lists = ( { category = "bl"; files = [ "bl.domains" ]; } );
block = [ "bl" ];
devices = ( { name = "kid"; ip = "10.77.0.2"; profile = "child"; } );
default_profile = "default";
profiles = {
  default = { };
  child = { safe_search = { google = true; }; };
};
log = { level = "info"; };
control = { socket = "$T/ctl/control.sock"; };
CONF
"$TOP/$BUILD/safegate-lists" compile -c "$T/sg.conf" -o "$T/lists.sgdb" >"$T/compile.out" 2>&1 ||
	{ not_ok "compile the set"; cat "$T/compile.out"; exit 1; }

# The upstream: TTL 1 on everything it knows.
upstream_start() {
	[ -e "$T/wan.bgpid" ] && upstream_stop	# never two: cleanup waits for all
	ip netns exec "$WAN" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--addn-hosts="$T/wan.hosts" --listen-address=10.78.0.2 --bind-interfaces \
		--user=root --group=root --pid-file="$T/wan.pid" --local-ttl=1 \
		--log-facility="$T/wan.log" --cache-size=0 &
	echo $! >"$T/wan.bgpid"
}
upstream_stop() {
	kill "$(cat "$T/wan.bgpid")" 2>/dev/null
	wait "$(cat "$T/wan.bgpid")" 2>/dev/null
	rm -f "$T/wan.bgpid"
}
# The router's: forwards everything upstream, caches nothing.
ip netns exec "$RTR" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
	--server=10.78.0.2 --listen-address=10.77.0.1,127.0.0.1 --bind-interfaces \
	--user=root --group=root --pid-file="$T/rtr.pid" --cache-size=0 \
	--log-facility="$T/rtr.log" &
echo $! >"$T/rtr.bgpid"
upstream_start

kq() { in_lan dig +time=1 +tries=1 @10.77.0.1 "$@"; }
# status NAME: NXDOMAIN, NOERROR (with an address), SERVFAIL, ... or
# "no answer".
status() {
	local out
	out=$(kq "$1" A 2>&1)
	if echo "$out" | grep -q 'no servers could be reached\|timed out'; then echo "no answer"
	else echo "$out" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; fi
}
safe() { kq www.google.com +short | tr '\n' ' '; echo; }
st() { ctl status | awk -v k="$1" '$1 == k { print $2 }'; }
elapsed() { echo $(( $(date +%s) - T0 )); }
# wait_until SECONDS-SINCE-START: sleeps until then.
wait_until() { local d=$(( $1 - $(elapsed) )); [ $d -gt 0 ] && sleep $d; return 0; }
# poll_log SECONDS PATTERN: waits for a line of safegated's log.
poll_log() {
	local end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -le $end ]; do
		grep -qE "$2" "$T/safegated.log" && return 0
		sleep 0.2
	done
	return 1
}

wait_dns kq ok.test || { not_ok "the router's dnsmasq answers through the upstream"; exit 1; }
sg_start || { not_ok "safegated starts"; exit 1; }
T0=$(date +%s)

# --- up ---------------------------------------------------------------------------
check "up: the safe hosts are resolved (within 5 s)" \
	sh -c "for i in \$(seq 1 50); do ip netns exec $LAN dig +time=1 +tries=1 @10.77.0.1 www.google.com +short |
		tr '\n' ' ' | grep -q '^forcesafesearch\\.google\\.com\\. 10\\.78\\.0\\.2 \$' && exit 0; sleep 0.1; done; exit 1"
check_out "up: ok.test answered" '^NOERROR$' status ok.test
check_out "up: blocked.test NXDOMAIN" '^NXDOMAIN$' status blocked.test
a0=$(st safe_search_answers); q0=$(st safe_search_queries)
echo "# up: safe_search_queries $q0, safe_search_answers $a0"

# --- down -------------------------------------------------------------------------
wait_until 3
upstream_stop
echo "# the upstream killed at $(elapsed) s"
check "down: the upstream is down (the router's dnsmasq gets no address for ok.test)" \
	sh -c "! ip netns exec $LAN dig +time=2 +tries=1 @10.77.0.1 ok.test +short | grep -q '^10\\.'"
down_ok=$(status ok.test)
echo "# down: ok.test: $down_ok"
check "down: ok.test gets no address, as dnsmasq decides ($down_ok)" \
	test "$down_ok" != NOERROR -a -n "$down_ok"
nx=0
for i in 1 2 3 4 5; do [ "$(status blocked.test)" = NXDOMAIN ] && nx=$((nx + 1)); done
check "down: blocked.test NXDOMAIN 5 times of 5, answered by safegated" test $nx = 5
check_out "down: www.google.com still the CNAME and the safe host's address" \
	'^forcesafesearch\.google\.com\. 10\.78\.0\.2 $' safe
# The refresh at 24 s fails; the addresses expire at 30 s.
check "down: safegated's refresh of the safe hosts fails, and the log says so (by 32 s)" \
	poll_log $(( 32 - $(elapsed) )) 'safehosts: .*asking again with backoff'
grep 'safehosts: ' "$T/safegated.log" | sed 's/^/#   log: /' | head -5
wait_until 33
check_out "down, $(elapsed) s: past the TTL, www.google.com is still the CNAME and the address (stale)" \
	'^forcesafesearch\.google\.com\. 10\.78\.0\.2 $' safe
kq www.google.com +noall +answer | sed 's/^/#   stale answer: /'
q1=$(st safe_search_queries); a1=$(st safe_search_answers)
echo "# down: safe_search_queries $q1, safe_search_answers $a1, safe_search_timeouts $(st safe_search_timeouts)"
check "down: the thread asked again ($((q1 - q0)) queries) and got no usable answer" \
	test "$q1" -gt "$q0" -a "$a1" = "$a0"
warns=$(grep -c 'safehosts: .*asking again with backoff' "$T/safegated.log")
lines=$(grep 'safehosts: ' "$T/safegated.log" | grep -vc 'SO_MARK')
check "down: the log tells the outage once ($warns warning, $lines safehosts lines)" \
	test "$warns" = 1 -a "$lines" = 1
check "down: safegated is running" kill -0 "$SG_PID"

# --- back -------------------------------------------------------------------------
wait_until 36
upstream_start
back=$(elapsed)
echo "# the upstream started again at $back s"
check "back: ok.test answered again (within 5 s)" wait_dns sh -c "ip netns exec $LAN dig +time=1 +tries=1 @10.77.0.1 ok.test +short | grep -q '^10\\.78\\.0\\.20\$'"
check_out "back: blocked.test NXDOMAIN" '^NXDOMAIN$' status blocked.test
check "back: the thread gets its answers again (its backoff: within 60 s)" \
	poll_log 60 'safehosts: the resolver answers again'
echo "# back: the safe hosts answered again $(( $(elapsed) - back )) s after the upstream"
grep 'safehosts: the resolver answers again' "$T/safegated.log" | sed 's/^/#   log: /'
check "back: safe_search_answers grew ($(st safe_search_answers) > $a1)" test "$(st safe_search_answers)" -gt "$a1"
check_out "back: www.google.com the CNAME and the address" \
	'^forcesafesearch\.google\.com\. 10\.78\.0\.2 $' safe
echo "# whole run: $(elapsed) s"
safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
finish
