#!/usr/bin/env bash
# defaults.sh - the shipped config/safegate.conf, as `make run` starts it,
# protects a device nobody has configured: the default profile blocks the
# bundled adult and bypass lists, answers the Firefox canary NXDOMAIN,
# rewrites search engines to their safe hosts and gives HTTPS questions no
# data.  No resolver answers the router here, so safe search has no
# addresses to give (a CNAME alone) and the safe-host thread sees only
# timeouts: the daemon must keep running through them.
#
# Only the paths the daemon writes are moved into the test's folder; every
# policy setting is the shipped one.
. "$(dirname "$0")/lib.sh"
need_root
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up

sed -e "s|^  events = .*|  events = \"$T/events.jsonl\";|" \
    -e "s|^  socket = .*|  socket = \"$T/control.sock\";|" \
    -e "s|^  state = .*|  state = \"$T/state\";|" \
    -e "s|^dhcp_leases = .*|dhcp_leases = \"$T/none.leases\";|" \
    "$TOP/config/safegate.conf" >"$T/sg.conf"
check "the copy differs from the shipped file in paths only" \
	sh -c "diff '$TOP/config/safegate.conf' '$T/sg.conf' | grep '^>' | grep -vqE '(events|socket|state|dhcp_leases) = \"$T/'; test \$? = 1"

printf '10.78.0.10 %s\n' plain.test www.google.com >"$T/hosts"
dnsmasq_start "$RTR" rtr 10.77.0.1 "$T/hosts"
wait_dns sh -c "ip netns exec $LAN dig +time=1 +tries=1 +short @10.77.0.1 plain.test | grep -q ." ||
	{ not_ok "dnsmasq answers"; exit 1; }

"$TOP/$BUILD/safegate-lists" compile -c "$T/sg.conf" -L "$TOP/blocklists" \
	-o "$T/lists.sgdb" >"$T/compile.out" 2>&1 ||
	{ not_ok "the shipped lists compile"; cat "$T/compile.out"; exit 1; }
safegated_start "$T/sg.conf" -L "$TOP/blocklists" -D "$T/lists.sgdb" ||
	{ not_ok "safegated starts on the shipped config"; exit 1; }
ok "safegated starts on the shipped config"

q() { in_lan dig +time=2 +tries=1 @10.77.0.1 "$@"; }
adult=$(grep -v '^#' "$TOP/blocklists/seed/adult.domains" | grep . | head -1)
check_out "an unlisted name is answered" "^10\.78\.0\.10$" q plain.test +short
check_out "the first bundled adult seed name is NXDOMAIN" 'status: NXDOMAIN' q "$adult"
check_out "the Firefox DoH canary is NXDOMAIN" 'status: NXDOMAIN' q use-application-dns.net
check_out "a DoH endpoint (seed list) is NXDOMAIN" 'status: NXDOMAIN' \
	q "$(grep -v '^#' "$TOP/blocklists/seed/doh.domains" | grep . | head -1)"
check_out "www.google.com: a CNAME to forcesafesearch.google.com" \
	'^www\.google\.com\.[[:space:]]+[0-9]+[[:space:]]+IN[[:space:]]+CNAME[[:space:]]+forcesafesearch\.google\.com\.$' \
	q www.google.com
check_out "www.youtube.com: a CNAME to restrict.youtube.com (strict)" \
	'CNAME[[:space:]]+restrict\.youtube\.com\.$' q www.youtube.com
check_out "an HTTPS question: NOERROR" 'status: NOERROR' q plain.test TYPE65
check_out "... and no answer (no ECH keys)" 'ANSWER: 0,' q plain.test TYPE65

# The safe-host thread asks 127.0.0.1, where nothing listens: its queries
# time out (2 s) and are retried; the daemon lives on.
sleep 5
check "safegated is still running after the safe hosts' timeouts" kill -0 "$SG_PID"
check_out "status: the safe-host thread is on" '^safe_search_hosts on$' ctl status
check_out "status: it has sent queries" '^safe_search_queries [1-9]' ctl status
check_out "and the policy still answers" 'status: NXDOMAIN' q use-application-dns.net
safegated_stop
check "it stops cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
finish
