#!/usr/bin/env bash
# blockpage.sh - the block page (issue 6) end to end: safegated answers
# blocked names with the router's address (dns.block_response "address")
# and serves the page there (blockpage.serve), and curl in the lan reads
# it as a browser would.
#
#   lan  (amy-tablet)  10.77.0.2  fd77::2  profile "child": blocks adult
#   lan2 (teen-laptop) 10.79.0.2           profile "teen": blocks nothing;
#                      known by its MAC, which the page's TCP connection
#                      does not carry: the daemon must find it (its DHCP
#                      lease, or the neighbour table) for the page to
#                      follow its profile
#   the router         10.77.0.1  fd77::1  dnsmasq on 53, the page on 80
#
#   1. dig gets the page's address for a blocked name, and curl the page:
#      403, the category in plain words, the help lines, the caching and
#      CSP headers; HEAD, POST, an IPv6 visit;
#   2. an allowed name, or the router's address typed in: the neutral
#      page; the same blocked name from lan2, whose profile allows it:
#      the neutral page too (each device sees its own decision only);
#   3. an abuse-list (confidential, hashed) name: the IWF's wording, no
#      site name anywhere in the page, the events or the log;
#   4. plain HTTP to a web server in wan, the name resolved elsewhere:
#      a 302 to the page (?blocked=NAME, or a signed ?notice= for the
#      abuse list), the server reset; the link read back per device;
#      the digest lists the visits and the abuse-list advice;
#   5. a pause (safegatectl) says so; a client that stalls gets 408.
. "$(dirname "$0")/lib.sh"
need_root
command -v curl >/dev/null || { echo "not ok - curl missing: run 'make deps'"; exit 1; }
trap cleanup EXIT
TEENMAC=02:00:00:79:00:02
net_up
lan2_up $TEENMAC

SECRET=hidden-entry.invalid	# stands for a name on a confidential list
cat >"$T/hosts" <<HOSTS
10.77.9.1 allowed.test
10.77.9.2 blocked.test www.blocked.test
fd77:9::2 blocked.test
10.77.9.4 $SECRET
HOSTS
printf '%s\n' '# the e2e list: reserved names only' blocked.test >"$T/adult.domains"
printf 'sha256:%s\n' "$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)" \
	>"$T/abuse.hashes"

# dnsmasq's lease format: expiry, MAC, address, hostname, client id
echo "$(($(date +%s) + 86400)) $TEENMAC 10.79.0.2 teen-laptop 01:$TEENMAC" \
	>"$T/leases"

cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 17 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "address"; ttl = 60;
        block_page = [ "10.77.0.1", "fd77::1" ]; };
blockpage = { serve = true; port = 80; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
dhcp_leases = "$T/leases";
lists = ( { category = "adult"; files = [ "adult.domains" ]; },
          { category = "abuse"; confidential = true;
            files = [ "abuse.hashes" ]; } );
block = [ "abuse" ];
devices = ( { name = "amy-tablet"; ip = "10.77.0.2"; profile = "child"; },
            { name = "teen-laptop"; mac = "$TEENMAC"; profile = "teen"; } );
default_profile = "child";
profiles = {
  child = { block = [ "adult" ]; };
  teen = { };
};
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; state = "$T/state"; };
CONF

dig1() { in_lan dig +time=2 +tries=1 "$@"; }
# get [CURL ARGS...]: status line, headers, then the body, from lan.
get() { in_lan curl -sS --max-time 8 -i "$@"; }
get2() { in_lan2 curl -sS --max-time 8 -i "$@"; }
# The page as a browser shows it: tags dropped, &#39; as an apostrophe.
shown() { sed -e 's/<[^>]*>//g' -e "s/&#39;/'/g" -e 's/&amp;/\&/g'; }
page() { get "$@" | shown; }
# The body alone (after the empty line).
body() { get "$@" | sed '1,/^\r$/d'; }

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,10.79.0.1,fd77::1,127.0.0.1 "$T/hosts"
wait_dns dig1 @10.77.0.1 allowed.test || { not_ok "router dnsmasq answers"; exit 1; }

check_out "safegated -n accepts the blockpage keys" 'blockpage' \
	"$TOP/$BUILD/safegated" -n -c "$T/sg.conf"
safegated_start "$T/sg.conf" || { not_ok "safegated starts with blockpage.serve"; exit 1; }
ok "safegated starts with blockpage.serve"
for i in $(seq 1 50); do
	in_rtr sh -c 'ss -Hltn "sport = :80"' | grep -q 10.77.0.1 && break
	sleep 0.1
done
check_out "the page listens on 10.77.0.1:80 and [fd77::1]:80" \
	'10\.77\.0\.1:80.*\[fd77::1\]:80|\[fd77::1\]:80.*10\.77\.0\.1:80' \
	sh -c "ip netns exec $RTR ss -Hltn 'sport = :80' | tr '\n' ' '"

# --- 1. a blocked name ---------------------------------------------------------
check_out "dig: the blocked name is the page's address" '^10\.77\.0\.1$' \
	dig1 @10.77.0.1 blocked.test A +short
check_out "dig: AAAA is the page's IPv6 address" '^fd77::1$' \
	dig1 @10.77.0.1 blocked.test AAAA +short
ADDR=$(dig1 @10.77.0.1 blocked.test A +short)
ADDR=${ADDR:-10.77.0.1}
RB="--resolve blocked.test:80:$ADDR"
check_out "curl http://blocked.test/: 403" '^HTTP/1\.1 403 Forbidden' get $RB http://blocked.test/
check_out "any path gets the page" '^HTTP/1\.1 403' get $RB 'http://blocked.test/some/page?x=1'
check_out "the page says it is blocked" 'This page is blocked' page $RB http://blocked.test/
check_out "the category in plain words" 'on the list for adult content' page $RB http://blocked.test/
check_out "talk to an adult you trust" \
	'If something online has worried or upset you, talk to an adult you trust\.' \
	page $RB http://blocked.test/
check_out "Childline, free and in private" \
	'You can talk to Childline, free and in private, on 0800 1111 or at childline\.org\.uk' \
	page $RB http://blocked.test/
check_out "CEOP's report button" \
	'<a class="button" href="https://www\.ceop\.police\.uk/Safety-Centre/">' \
	get $RB http://blocked.test/
check_out "the device's name" 'this device: amy-tablet' page $RB http://blocked.test/
check_not_out "the page does not name the site" 'blocked\.test' body $RB http://blocked.test/
check_not_out "no script, no outside asset" '<script|<img|<link|<iframe|src=|url\(' \
	body $RB http://blocked.test/
# every link in the page but the help routes: none may be left
check_not_out "no link but the help routes" 'http' \
	sh -c "ip netns exec $LAN curl -sS --max-time 8 $RB http://blocked.test/ | grep -oE 'https?://[^\"]*' | grep -vxE 'https://(www\.childline\.org\.uk/|www\.ceop\.police\.uk/Safety-Centre/|report\.iwf\.org\.uk/)'"
for h in 'Cache-Control: no-store, no-cache, must-revalidate, max-age=0' \
	'Pragma: no-cache' 'Expires: 0' \
	"Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; img-src data:" \
	'X-Content-Type-Options: nosniff' 'Referrer-Policy: no-referrer' \
	'Connection: close' 'Content-Type: text/html; charset=utf-8'; do
	check_out "header: $h" "^$(printf '%s' "$h" | sed 's/[].[*^$()+?{|\\]/\\&/g')" \
		get $RB http://blocked.test/
done
check_out "HEAD: 403" '^HTTP/1\.1 403' in_lan curl -sS --max-time 8 -I $RB http://blocked.test/
check_out "HEAD: the GET's Content-Length" '^Content-Length: [1-9][0-9]*' \
	in_lan curl -sS --max-time 8 -I $RB http://blocked.test/
check_not_out "HEAD: no body" '<html|^HTTP/1\.1 200' \
	in_lan curl -sS --max-time 8 -I $RB http://blocked.test/
check_out "POST: 405 with Allow" '^HTTP/1\.1 405.*Allow: GET, HEAD' \
	sh -c "ip netns exec $LAN curl -sS --max-time 8 -i -d x=1 $RB http://blocked.test/ | tr -d '\r' | tr '\n' ' '"
check_out "IPv6: the page at [fd77::1]" 'on the list for adult content' \
	page -g -H 'Host: blocked.test' 'http://[fd77::1]/'

# --- 2. the neutral page, and each device's own decision ------------------------
check_out "an allowed name at the page's address: 200" '^HTTP/1\.1 200 OK' \
	get -H 'Host: allowed.test' http://10.77.0.1/
check_out "an allowed name: the neutral page" 'This is the safegate filter on your home network' \
	page -H 'Host: allowed.test' http://10.77.0.1/
check_not_out "the neutral page tells nothing" 'is blocked|list for|adult content|amy-tablet' \
	page -H 'Host: allowed.test' http://10.77.0.1/
check_out "the router's address typed in: the neutral page" \
	'This is the safegate filter on your home network' page http://10.77.0.1/
check_out "the neutral page is not cached either" '^Cache-Control: no-store' \
	get http://10.77.0.1/
check_out "lan2 (teen) asks the page for blocked.test: 200, its own decision" '^HTTP/1\.1 200 OK' \
	get2 -H 'Host: blocked.test' http://10.77.0.1/
check_not_out "lan2 is not shown amy-tablet's block" 'adult content|amy-tablet|list for' \
	sh -c "ip netns exec $LAN2 curl -sS --max-time 8 -H 'Host: blocked.test' http://10.77.0.1/"
check_out "and amy-tablet still gets hers" 'on the list for adult content' \
	page -H 'Host: blocked.test' http://10.77.0.1/

# --- 3. an abuse-list name ---------------------------------------------------------
check_out "dig: the confidential name is the page's address" '^10\.77\.0\.1$' \
	dig1 @10.77.0.1 "$SECRET" A +short
RS="--resolve $SECRET:80:10.77.0.1"
check_out "curl: 403" '^HTTP/1\.1 403' get $RS "http://$SECRET/"
check_out "the IWF's standard wording" \
	'Access has been denied by your internet access provider because this page may contain indecent images of children as identified by the Internet Watch Foundation\.' \
	page $RS "http://$SECRET/"
check_out "the IWF's report link" 'href="https://report\.iwf\.org\.uk/"' get $RS "http://$SECRET/"
check_not_out "no site name in the page" "$SECRET|hidden-entry" get $RS "http://$SECRET/some/path"
check_not_out "no category, list or device on it" 'abuse\.hashes|sha256|on the list for|amy-tablet|This page is blocked' \
	page $RS "http://$SECRET/"
check_out "its headers are no-store too" '^Cache-Control: no-store' get $RS "http://$SECRET/"
# The hit raised the abuse-list indicator: critical, held, and no name.
check_out "the record: an abuse-list indicator, critical, held, no name" \
	'"kind":"indicator".*"name":"".*"indicator":"abuse-list","severity":"critical","hold":true' \
	cat "$T/events.jsonl"
check_out "status: the indicator fired" '^indicators_fired [1-9]' ctl status

# --- 4. plain HTTP to the site itself: sent to the page ------------------------------
# The name resolved elsewhere (a cached answer, another resolver, a typed-in
# address): curl reaches the web server in wan, safegated reads the Host,
# answers the client in the server's name with a 302 to the page, and
# resets the server, which never reads the request whole.
in_wan python3 -m http.server 80 --bind 10.78.0.2 --directory "$T" \
	>"$T/wan-http.log" 2>&1 &
echo $! >"$T/wanhttp.bgpid"
in_wan python3 -m http.server 80 --bind fd78::2 --directory "$T" \
	>"$T/wan-http6.log" 2>&1 &
echo $! >"$T/wanhttp6.bgpid"
for i in $(seq 1 50); do
	in_wan sh -c 'ss -Hltn "sport = :80"' | tr '\n' ' ' |
		grep -q '10.78.0.2.*fd78::2\|fd78::2.*10.78.0.2' && break
	sleep 0.1
done
WB="--resolve blocked.test:80:10.78.0.2"
check_out "an allowed host reaches the web server" '^HTTP/1\.0 200' \
	get --resolve allowed.test:80:10.78.0.2 http://allowed.test/leases
check_out "a blocked host gets a 302 to the page, naming it" \
	'^Location: http://10\.77\.0\.1/\?blocked=blocked\.test' get $WB http://blocked.test/a/page
check_out "the 302 is no-store and closes" '^Cache-Control: no-store' \
	get $WB http://blocked.test/
check_out "followed, the page: 403, its category" 'on the list for adult content' \
	page -L $WB http://blocked.test/
check_not_out "the web server never answered the blocked request" 'GET /a/page' \
	cat "$T/wan-http.log"
check_out "the record: kind http, action redirect" \
	'"kind":"http".*"name":"blocked\.test".*"action":"redirect"' cat "$T/events.jsonl"
check_out "stats: drop_blocked_page counted" '^drop_blocked_page [1-9]' ctl stats
check_out "IPv6: a 302 to the page's IPv6 address" \
	'^Location: http://\[fd77::1\]/\?blocked=blocked\.test' \
	get --resolve 'blocked.test:80:[fd78::2]' http://blocked.test/
LINK=$(get $WB http://blocked.test/ | sed -n 's/^Location: \(.*\)\r$/\1/p')
check_out "the link from another device: its own decision, neutral" '^HTTP/1\.1 200' \
	get2 "$LINK"
check_out "a made-up link for an allowed name: neutral" '^HTTP/1\.1 200' \
	get 'http://10.77.0.1/?blocked=allowed.test'
# An abuse-list name: a signed notice, no name; good for this client only.
WS="--resolve $SECRET:80:10.78.0.2"
check_out "the confidential host: a 302 to a notice" \
	'^Location: http://10\.77\.0\.1/\?notice=[0-9]+\.[0-9a-f]{32}' get $WS "http://$SECRET/"
check_not_out "the 302 does not name it" "$SECRET|hidden-entry" get $WS "http://$SECRET/"
NOTICE=$(get $WS "http://$SECRET/" | sed -n 's/^Location: \(.*\)\r$/\1/p')
check_out "followed: the IWF's wording" 'indecent images of children as identified by the Internet Watch Foundation' \
	page "$NOTICE"
check_out "the notice from another device: neutral" '^HTTP/1\.1 200' get2 "$NOTICE"
BAD=${NOTICE%?}
case $NOTICE in *0) BAD=${BAD}1 ;; *) BAD=${BAD}0 ;; esac
check_out "a forged notice: neutral" '^HTTP/1\.1 200' get "$BAD"
check_out "a stale notice: neutral" '^HTTP/1\.1 200' \
	get "$(printf '%s' "$NOTICE" | sed 's/notice=[0-9]*/notice=1700000000/')"

# The parents' digest, built from the record the visits above wrote.
report() { "$TOP/$BUILD/safegatectl" report -c "$T/sg.conf" --since 1d "$@"; }
report --format text >"$T/digest.txt" 2>&1
check_out "the digest: amy-tablet's own section" '^amy-tablet .*profile child' cat "$T/digest.txt"
check_out "the digest lists the blocked visits by category" '^  adult +[1-9]' cat "$T/digest.txt"
check_out "the digest opens with the abuse-list alarm" \
	'^URGENT: a site on the child-abuse list was blocked' cat "$T/digest.txt"
check_out "the digest's advice: do not search, do not confront, report" \
	'Do not search for the site' cat "$T/digest.txt"
check_out "the digest: report to CEOP or the police" 'Report it to CEOP or to the police' \
	cat "$T/digest.txt"
check_not_out "the digest never names the confidential site" "$SECRET|hidden-entry" \
	cat "$T/digest.txt"
check_out "the JSON digest lists the http redirect" '"blocked"' report --format json

# --- 5. a pause, a stalled client, the counters -------------------------------------
check_out "pause amy-tablet" 'paused until' ctl pause amy-tablet --for 1h
check_out "paused: the page says so" 'The internet is paused on this device until' \
	page -H 'Host: allowed.test' http://10.77.0.1/
check "resume amy-tablet" ctl resume amy-tablet
check_out "a client that stalls mid-request gets 408 after the deadline" '^HTTP/1\.1 408' \
	in_lan timeout 12 bash -c 'exec 3<>/dev/tcp/10.77.0.1/80; printf "GET / HTTP/1.1\r\nHo" >&3; cat <&3'
check_out "a request over 8 KiB gets 431" '^HTTP/1\.1 431' \
	get -H "X-Pad: $(head -c 9000 /dev/zero | tr '\0' x)" http://10.77.0.1/

safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check_not_out "nothing the daemon wrote holds the confidential name" "$SECRET" \
	cat "$T/events.jsonl" "$T/safegated.log"
check_not_out "the port is closed after stop" ':80 ' \
	sh -c "ip netns exec $RTR ss -Hltn 'sport = :80'"
check "no sanitizer report" no_sanitizer_report
finish
