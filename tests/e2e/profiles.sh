#!/usr/bin/env bash
# profiles.sh - parents' policy (issue 5) end to end: two lan clients told
# apart by MAC, each with its own profile, through a real NFQUEUE.
#
#   lan  (kid)    02:00:00:77:00:02  10.77.0.2  fd77::2  profile "child"
#   lan2 (parent) 02:00:00:79:00:02  10.79.0.2  fd79::2  profile "grownup"
#   the router's own queries (no MAC, no device): profile "default"
#
# The router's dnsmasq (dns.resolver) knows every name the test asks,
# search hosts included, and forwards nothing: --no-resolv and no server,
# in namespaces with no way out.  The wan namespace has a second dnsmasq
# (the "outside" resolver), a TLS server on 443 at 10.78.0.2 (the safe
# search hosts' address) and 10.78.0.3 (www.google.com's), and listeners
# on TCP and UDP 853 (DNS over TLS, and over QUIC).
#
#   1. the same names, different answers per profile (child, grownup,
#      default); 2. events name the device, profile and reason;
#   3. bedtime, crossed with the test clock (-T, TZ=Europe/London);
#   4. safegatectl pause, allow, resume, overrides, explain, and a pause
#      kept across a restart (control.state);
#   5. safe search (CNAME and address, HTTPS/SVCB no data, SNI towards a
#      search host only at the safe host's address); 6. outside_dns =
#      "block"; 7. bypass.dot; 8. the control socket's permissions.
#
# The test clock runs only in the first part (3.), where one allow shows
# that --for (an end on safegatectl's wall clock) is moved onto it; the
# expiries are tested on a daemon without -T, in real seconds.
. "$(dirname "$0")/lib.sh"
need_root
for tool in openssl curl python3 setpriv; do
	command -v $tool >/dev/null || { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
done
trap cleanup EXIT
# The daemon and safegatectl: local times in the same zone.
export TZ=Europe/London
STARTED=$(date +%s)

KIDMAC=02:00:00:77:00:02
PARMAC=02:00:00:79:00:02
net_up
ip -n "$LAN" link set dev "sgl$ID" address $KIDMAC
lan2_up $PARMAC
ip -n "$WAN" addr add 10.78.0.3/24 dev "sgw$ID"
chmod 0711 "$T"		# for the unprivileged safegatectl (8.)

# --- names, lists, resolvers --------------------------------------------------
# Every test name resolves to 10.78.0.10 at the router, 10.78.0.20 at the
# outside resolver; the search hosts to wan addresses of the test's.
cat >"$T/rtr.hosts" <<HOSTS
10.78.0.10 news.test adult.test health.test games.test chat.test doh.test
10.78.0.10 vpn.test school.test use-application-dns.net
fd78::10 news.test adult.test
10.78.0.2 forcesafesearch.google.com restrict.youtube.com
fd78::2 forcesafesearch.google.com restrict.youtube.com
10.78.0.3 www.google.com www.youtube.com
HOSTS
cat >"$T/wan.hosts" <<HOSTS
10.78.0.20 news.test adult.test
HOSTS
list() { local f=$1; shift; printf '%s\n' '# the e2e lists: test names only' "$@" >"$T/$f.domains"; }
list adult adult.test health.test
list games games.test
list anon-chat chat.test
list doh doh.test
list bypass use-application-dns.net
list vpn-proxy vpn.test

# Bedtime: a one-hour daily window starting two hours from now (so that
# the wall clock is never in it: the later parts run on it), crossed with
# the test clock started 8 s before its start.
now=$(date +%s)
BED=$(date -d @$((now + 7200)) +%H:%M)
EDGE=$(date -d "$BED" +%s)
[ "$EDGE" -gt "$now" ] || EDGE=$(date -d "tomorrow $BED" +%s)
BED_END=$(date -d @$((EDGE + 3600)) +%H:%M)
# (the night the clocks go back, an hour on may read the same)
[ "$BED_END" != "$BED" ] || BED_END=$(date -d @$((EDGE + 7200)) +%H:%M)

cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 31 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; resolver = "127.0.0.1"; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
dhcp_leases = "";
lists = ( { category = "adult"; files = [ "adult.domains" ]; },
          { category = "games"; files = [ "games.domains" ]; },
          { category = "anon-chat"; files = [ "anon-chat.domains" ]; },
          { category = "doh"; files = [ "doh.domains" ]; },
          { category = "bypass"; files = [ "bypass.domains" ]; },
          { category = "vpn-proxy"; files = [ "vpn-proxy.domains" ]; } );
block = [ ];
devices = ( { name = "kid"; mac = "$KIDMAC"; profile = "child"; },
            { name = "parent"; mac = "$PARMAC"; profile = "grownup"; } );
default_profile = "default";
profiles = {
  default = { block = [ "anon-chat" ]; };
  child = {
    block = [ "adult", "games" ];
    allow = [ "health.test" ];
    schedules = { bedtime = { when = "daily $BED-$BED_END"; block = "all"; }; };
    safe_search = { google = true; youtube = "strict"; };
    bypass = { doh = true; vpn = true; dot = true; ech = true;
               outside_dns = "block"; };
  };
  grownup = { bypass = { outside_dns = "allow"; }; };
};
always_allow = [ "school.test" ];
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/ctl/control.sock"; state = "$T/state"; };
CONF
ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }

# wan: the outside resolver; TLS on 443 (every address: 10.78.0.2 and
# .3) and on 853; a UDP echo on 853.
dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,10.79.0.1,fd77::1,fd79::1,127.0.0.1 "$T/rtr.hosts"
dnsmasq_start "$WAN" wan-dnsmasq 10.78.0.2 "$T/wan.hosts"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=wan.test \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
for port in 443 853; do
	ip netns exec "$WAN" openssl s_server -accept $port -www -cert "$T/cert.pem" \
		-key "$T/key.pem" -quiet >"$T/s_server$port.log" 2>&1 &
	echo $! >"$T/s_server$port.bgpid"
done
ip netns exec "$WAN" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.78.0.2", 853))
while True:
    d, a = s.recvfrom(65535)
    s.sendto(d, a)
' &
echo $! >"$T/udp853.bgpid"

# kid / parent ask the router (or, with @SERVER first, that server).
kq() { in_lan dig +time=2 +tries=1 @10.77.0.1 "$@"; }
pq() { in_lan2 dig +time=2 +tries=1 @10.79.0.1 "$@"; }
# until_out SECONDS PATTERN COMMAND...: runs the command until its output
# matches (0) or the deadline passes (1, printing the last output).
until_out() {
	local secs=$1 pat=$2 end; shift 2
	end=$(($(date +%s%N) / 1000000 + secs * 1000))
	while :; do
		"$@" >"$T/poll.out" 2>&1
		grep -Eq -- "$pat" "$T/poll.out" && return 0
		[ $(($(date +%s%N) / 1000000)) -lt "$end" ] || { cat "$T/poll.out"; return 1; }
		sleep 0.2
	done
}
ms() { echo $(($(date +%s%N) / 1000000)); }
# tcp NS HOST PORT: "connected", "refused", "reset" or "timeout", and how
# long it took; a connection that opens sends a byte and waits a moment
# for a reset.
cat >"$T/tcp.py" <<'PY'
import socket, sys, time
t = time.time()
s = socket.socket(socket.AF_INET)
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    r = "connected"
    s.settimeout(0.5)
    try:
        s.send(b"\x16")
        s.recv(1)
    except ConnectionResetError:
        r = "reset after connecting"
    except socket.timeout:
        pass
except ConnectionRefusedError:
    r = "refused"
except ConnectionResetError:
    r = "reset"
except socket.timeout:
    r = "timeout"
except OSError as e:
    r = "error %s" % e
print(r, int((time.time() - t) * 1000), "ms")
PY
tcp() { local ns=$1; shift; ip netns exec "$ns" python3 "$T/tcp.py" "$@"; }
# tls NS CURL_ARGS...: an HTTPS request from that namespace, and its status.
tls() { local ns=$1; shift; ip netns exec "$ns" curl -sS -k --max-time 5 -o /dev/null -w 'http %{http_code}\n' "$@"; }
ev() { cat "$T/events.jsonl" 2>/dev/null; }

wait_dns kq news.test || { not_ok "router dnsmasq answers kid"; exit 1; }
wait_dns pq news.test || { not_ok "router dnsmasq answers parent"; exit 1; }
wait_dns kq @10.78.0.2 news.test || { not_ok "wan dnsmasq answers"; exit 1; }
wait_dns in_lan curl -sk --max-time 2 https://10.78.0.3/ || { not_ok "the TLS server answers"; exit 1; }
if ! "$TOP/$BUILD/safegated" -n -c "$T/sg.conf" >"$T/n.out" 2>&1; then
	not_ok "safegated -n accepts the config"; sed 's/^/#   /' "$T/n.out" | head; exit 1
fi
check_out "without safegated, kid gets adult.test from dnsmasq" '^10\.78\.0\.10$' kq adult.test +short
check_out "the router's dnsmasq has no upstream: nothing is forwarded" \
	'no upstream servers configured' cat "$T/rtr-dnsmasq.log"

# === 3. bedtime, crossed on the test clock ===================================
echo "# bedtime daily $BED-$BED_END; test clock @$((EDGE - 8)) = $(date -d @$((EDGE - 8)) '+%a %F %T %Z')"
T0=$(ms)
safegated_start "$T/sg.conf" -T @$((EDGE - 8)) || { not_ok "safegated starts on the test clock"; exit 1; }
ok "safegated starts on the test clock, 8 s before bedtime"
check_out "before bedtime: kid gets news.test" '^10\.78\.0\.10$' kq news.test +short
check_out "status shows the test clock" '^test_clock \+[0-9]+ s$' ctl status
check "at bedtime: kid's news.test becomes NXDOMAIN (within 15 s)" \
	until_out 15 'status: NXDOMAIN' kq news.test
FLIP=$(ms)
check "... not before the edge ($((FLIP - T0)) ms after the start, 8 s to the edge)" \
	test $((FLIP - T0)) -ge 7000
check_out "bedtime: the event says schedule bedtime, device kid, profile child" \
	'"device":"kid","profile":"child","name":"news\.test","qtype":"A",.*"reason":"schedule","schedule":"bedtime","action":"nxdomain"' ev
check_out "bedtime: parent still gets news.test" '^10\.78\.0\.10$' pq news.test +short
check_out "bedtime: kid still gets health.test (the profile's allow list)" '^10\.78\.0\.10$' kq health.test +short
check_out "bedtime: kid still gets school.test (always_allow)" '^10\.78\.0\.10$' kq school.test +short
check_out "bedtime: explain kid news.test: blocked by the schedule" \
	'^decision: block \(schedule bedtime\)$' ctl explain kid news.test
# --for is on the wall clock; the daemon moves it onto the test clock
check "test clock: allow kid news.test --for 1h is taken" \
	ctl allow kid news.test --for 1h
check_out "test clock: the allow beats bedtime" '^10\.78\.0\.10$' kq news.test +short
check_out "test clock: overrides says the ends are the policy's" \
	'^# test clock: these ends are on the policy.s clock' ctl overrides
check "test clock: resume kid --all ends it" ctl resume kid --all
check_out "test clock: news.test is NXDOMAIN again" 'status: NXDOMAIN' kq news.test
safegated_stop
check "the daemon on the test clock stops cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report

# === the wall clock from here: outside bedtime ===============================
safegated_start "$T/sg.conf" || { not_ok "safegated starts"; exit 1; }
ok "safegated starts on the wall clock"

# === 1. one name, an answer per profile =======================================
nx() { local d=$1; shift; check_out "$d" 'status: NXDOMAIN' "$@"; }
an() { local d=$1; shift; check_out "$d" '^10\.78\.0\.10$' "$@" +short; }
an "kid gets news.test" kq news.test
an "parent gets news.test" pq news.test
nx "kid: adult.test is NXDOMAIN (child blocks adult)" kq adult.test
an "parent gets adult.test (grownup blocks nothing)" pq adult.test
nx "kid over IPv6 (same MAC): adult.test AAAA is NXDOMAIN" kq @fd77::1 adult.test AAAA
check_out "parent over IPv6 gets adult.test AAAA" '^fd78::10$' pq @fd79::1 adult.test AAAA +short
nx "kid: games.test is NXDOMAIN (child blocks games)" kq games.test
an "parent gets games.test" pq games.test
an "kid gets health.test (in adult, but on child's allow list)" kq health.test
nx "kid: doh.test is NXDOMAIN (bypass.doh)" kq doh.test
an "parent gets doh.test" pq doh.test
nx "kid: use-application-dns.net is NXDOMAIN (bypass.doh: the canary)" kq use-application-dns.net
an "parent gets use-application-dns.net" pq use-application-dns.net
nx "kid: vpn.test is NXDOMAIN (bypass.vpn)" kq vpn.test
an "parent gets vpn.test" pq vpn.test
an "kid gets chat.test (child does not block anon-chat)" kq chat.test
an "parent gets chat.test" pq chat.test
nx "the router itself (no device: default profile) gets chat.test NXDOMAIN" \
	in_rtr dig +time=2 +tries=1 @127.0.0.1 chat.test

# === 2. the events say who =====================================================
check_out "event: kid's adult.test names device, profile, category reason" \
	'"client":"10\.77\.0\.2","mac":"02:00:00:77:00:02","device":"kid","profile":"child","name":"adult\.test","qtype":"A","categories":\["adult"\],"rule":"adult\.test","reason":"category","action":"nxdomain"' ev
check_out "event: the router's chat.test is the default profile's" \
	'"device":null,"profile":"default","name":"chat\.test"' ev
# (indicators may name the parent's device: its DNS to the outside
# resolver is a bypass attempt on any profile; blocks may not)
check_not_out "events: no block of the parent's" '"device":"parent"' \
	sh -c "grep -v '\"kind\":\"indicator\"' '$T/events.jsonl'"

# === 4a. allow, pause, resume, overrides, explain ==============================
ctl explain kid adult.test >"$T/explain.out" 2>&1
check_out "explain kid adult.test: the device, found by MAC" \
	'^device kid: by MAC, MAC 02:00:00:77:00:02' cat "$T/explain.out"
check_out "explain kid adult.test: profile child" '^profile child$' cat "$T/explain.out"
check_out "explain kid adult.test: decision block (category)" '^decision: block \(category\)$' cat "$T/explain.out"
check_out "explain kid health.test: the allow list's entry" '^allow list: entry health\.test$' \
	ctl explain kid health.test
check_out "explain parent adult.test: profile grownup, allowed" \
	'^decision: allow \(not-listed\)' ctl explain parent adult.test

TA=$(ms)
check_out "allow kid adult.test --for 6s" 'adult\.test allowed for kid until' ctl allow kid adult.test --for 6s
an "temporary allow: kid gets adult.test" kq adult.test
nx "temporary allow: it covers only its name (games.test still blocked)" kq games.test
check_out "explain: allowed for now, by safegatectl" '^allowed for now until .*\(safegatectl\)$' \
	ctl explain kid adult.test
check_out "pause kid --for 1h" 'kid paused until' ctl pause kid --for 1h
nx "paused: kid's news.test is NXDOMAIN" kq news.test
check_out "paused: the event says reason pause" \
	'"device":"kid","profile":"child","name":"news\.test",.*"reason":"pause"' ev
nx "paused: the pause holds the temporary allow off (adult.test)" kq adult.test
an "paused: kid still gets school.test (always_allow)" kq school.test
nx "paused: kid no longer gets health.test (the allow list is not always_allow)" kq health.test
check_out "paused: parent unaffected (adult.test)" '^10\.78\.0\.10$' pq adult.test +short
ctl overrides >"$T/overrides.out" 2>&1
check_out "overrides lists the pause" '^kid: paused until .*\(1h left\)$' cat "$T/overrides.out"
check_out "overrides lists the temporary allow" '^kid: adult\.test allowed until .*left\)$' cat "$T/overrides.out"
ctl explain kid news.test >"$T/explain.out" 2>&1
check_out "explain kid news.test while paused" '^decision: block \(pause\)$' cat "$T/explain.out"
check_out "... with the pause's end" '^paused until .*\(safegatectl\)$' cat "$T/explain.out"
check "resume kid" ctl resume kid
an "resumed early: kid gets news.test again" kq news.test
an "resumed: the temporary allow runs on (adult.test)" kq adult.test
ctl overrides >"$T/overrides.out" 2>&1
check_out "overrides: the allow stays" '^kid: adult\.test allowed' cat "$T/overrides.out"
check_not_out "overrides: the pause is gone" 'paused' cat "$T/overrides.out"

# === 5. safe search (while the allow runs out) ================================
# The daemon's resolver thread asks the router's dnsmasq for the safe hosts
# at start: poll until the CNAME comes with its address.
safe_short() { kq "$@" +short | tr '\n' ' '; echo; }
check "kid: www.google.com is a CNAME to forcesafesearch.google.com and its address (within 10 s)" \
	until_out 10 '^forcesafesearch\.google\.com\. 10\.78\.0\.2 $' safe_short www.google.com
check_out "kid: the answer's records" \
	'^www\.google\.com\..*CNAME.*forcesafesearch\.google\.com\.' kq www.google.com +noall +answer
check_out "kid: www.youtube.com is restrict.youtube.com (strict)" \
	'^restrict\.youtube\.com\. 10\.78\.0\.2 $' safe_short www.youtube.com
check_out "kid: AAAA too" '^forcesafesearch\.google\.com\. fd78::2 $' safe_short www.google.com AAAA
check_out "parent: www.google.com is dnsmasq's answer" '^10\.78\.0\.3$' pq www.google.com +short
check_out "kid: over TCP, www.google.com is reset (no answer to forge into a stream)" \
	'connection reset|communications error|end of file' kq www.google.com +tcp
hq() { "$@" | tr '\n' ' '; echo; }
check_out "kid: an HTTPS query is NOERROR with no answer (bypass.ech)" \
	'status: NOERROR.*ANSWER: 0,' hq kq news.test TYPE65
check_out "kid: and SVCB" 'status: NOERROR.*ANSWER: 0,' hq kq news.test TYPE64
pq news.test TYPE65 >/dev/null 2>&1
check_out "parent: an HTTPS query reaches dnsmasq" 'query\[(HTTPS|type=65)\] news\.test from 10\.79\.0\.2' \
	cat "$T/rtr-dnsmasq.log"
check_not_out "kid's never did" 'query\[(HTTPS|SVCB|type=6[45])\] news\.test from 10\.77\.0\.2' cat "$T/rtr-dnsmasq.log"

# SNI: www.google.com at another address than the safe host's is reset.
b=$(stat drop_search_address)
check_out "kid: TLS to www.google.com at 10.78.0.3 is reset" \
	'reset by peer|SSL_ERROR_SYSCALL|Empty reply|Recv failure' \
	tls "$LAN" --resolve www.google.com:443:10.78.0.3 https://www.google.com/
a=$(stat drop_search_address)
check "... and counted: drop_search_address $b -> $a" test "$a" -gt "$b"
check_out "kid: TLS to www.google.com at 10.78.0.2 (the safe host's) completes" '^http 200$' \
	tls "$LAN" --resolve www.google.com:443:10.78.0.2 https://www.google.com/
check_out "parent: TLS to www.google.com at 10.78.0.3 completes" '^http 200$' \
	tls "$LAN2" --resolve www.google.com:443:10.78.0.3 https://www.google.com/
check_out "parent: and at 10.78.0.2" '^http 200$' \
	tls "$LAN2" --resolve www.google.com:443:10.78.0.2 https://www.google.com/
check "... no more resets ($a)" test "$(stat drop_search_address)" = "$a"

# === 6. outside DNS ============================================================
b=$(stat drop_outside_dns)
check_out "kid: a query to the outside resolver gets no answer" 'timed out|no servers could be reached' \
	in_lan dig +time=1 +tries=1 @10.78.0.2 news.test
a=$(stat drop_outside_dns)
check "... counted: drop_outside_dns $b -> $a" test "$a" -gt "$b"
check_out "... recorded: reason outside-dns" \
	'"client":"10\.77\.0\.2",.*"device":"kid","profile":"child","name":"news\.test".*"reason":"outside-dns"' ev
check_not_out "... and the outside resolver never saw it" 'news\.test from 10\.77\.0\.2' cat "$T/wan-dnsmasq.log"
check_out "parent: the outside resolver answers" '^10\.78\.0\.20$' \
	in_lan2 dig +time=2 +tries=1 @10.78.0.2 news.test +short

# === 7. DNS over TLS ===========================================================
check_out "the firewall queues port 853 (bypass.dot)" 'dport 853' \
	in_rtr "$TOP/$BUILD/safegated" -R show -c "$T/sg.conf"
b=$(stat drop_dot)
check_out "kid: TCP to port 853 is refused at once" '^(refused|reset) [0-9]{1,3} ms$' tcp "$LAN" 10.78.0.2 853
echo "# kid, port 853: $(cat "$T/last.out")"
a=$(stat drop_dot)
check "... counted: drop_dot $b -> $a" test "$a" -gt "$b"
check_out "... recorded: kind dot, reason dot" \
	'"kind":"dot","transport":"tcp","client":"10\.77\.0\.2",.*"device":"kid","profile":"child","name":"",.*"reason":"dot"' ev
check_out "kid: UDP to port 853 gets nothing back" '^timeout' \
	in_lan "$TOP/$BUILD/tools/sg-udp" 10.78.0.2 853 0102030405 1000
check_out "parent: TCP to port 853 connects" '^connected ' tcp "$LAN2" 10.78.0.2 853
check_out "parent: a TLS handshake on 853 completes" 'Cipher is [A-Z]' \
	in_lan2 timeout 5 openssl s_client -connect 10.78.0.2:853 -servername dot.test </dev/null
check_out "parent: UDP to port 853 is echoed" '^0102030405' \
	in_lan2 "$TOP/$BUILD/tools/sg-udp" 10.78.0.2 853 0102030405 1000

# === 4b. the temporary allow runs out ==========================================
check "kid: adult.test is blocked again once the allow runs out (within 10 s)" \
	until_out 10 'status: NXDOMAIN' kq adult.test
d=$(( $(ms) - TA ))
check "... not before its 6 s ($d ms after the allow)" test $d -ge 5000
check_out "overrides: nothing left" '^no pauses or temporary allows$' ctl overrides

# === 4c. a pause that runs out; meanwhile the control socket ===================
TP=$(ms)
check_out "pause kid --for 6s" 'kid paused until' ctl pause kid --for 6s
nx "paused 6 s: kid's news.test is NXDOMAIN" kq news.test
an "paused 6 s: kid still gets school.test" kq school.test
an "paused 6 s: parent gets news.test" pq news.test

# === 8. the control socket =====================================================
check_out "the control socket is mode 0660" '^660$' command stat -c %a "$T/ctl/control.sock"
nobody() { in_rtr setpriv --reuid=65534 --regid=65534 --clear-groups "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }
check_out "nobody cannot pause" 'Permission denied|not a read-only command' nobody pause parent --for 1h
echo "# nobody: $(cat "$T/last.out")"
check "... and safegatectl says so by its exit status" test "$(nobody pause parent --for 1h >/dev/null 2>&1; echo $?)" = 1
# uid nobody in the socket's group (root's): it gets in, may read, and the
# daemon itself refuses the change.
grp0() { in_rtr setpriv --reuid=65534 --regid=0 --clear-groups "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }
check_out "uid 65534 in the socket's group may run status" '^generation [0-9]+$' grp0 status
check_out "... but the daemon refuses its pause" "not a read-only command.*uid 65534" grp0 pause parent --for 1h
echo "# uid 65534 gid 0: $(cat "$T/last.out")"
check_out "... and logs it" "control: refused 'pause' to uid 65534" cat "$T/safegated.log"
check_not_out "nothing of the parent's was paused" 'parent' ctl overrides
check_out "root may run status" '^generation [0-9]+$' ctl status

check "kid: news.test is back once the pause runs out (within 10 s)" \
	until_out 10 '^10\.78\.0\.10$' kq news.test +short
d=$(( $(ms) - TP ))
check "... not before its 6 s ($d ms after the pause)" test $d -ge 5000

# === 4d. a pause outlives a restart ============================================
check_out "pause kid --for 1h" 'kid paused until' ctl pause kid --for 1h
check_out "the state file holds it" '^pause kid [0-9]+$' cat "$T/state"
safegated_stop
check "the daemon stops cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
safegated_start "$T/sg.conf" || { not_ok "safegated restarts"; exit 1; }
check_out "restarted: the pause is listed" '^kid: paused until .*\((59m|1h) left\)$' ctl overrides
nx "restarted: kid is still paused (news.test)" kq news.test
an "restarted: parent is not" pq news.test
check "resume kid" ctl resume kid
an "resumed: kid gets news.test" kq news.test
check_out "resumed: the state file is empty of pauses" '^0$' sh -c "grep -c '^pause' '$T/state' || true"

safegated_stop
check "the daemon stops cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
check_out "no safegate rule is left" '^0$' rules_left
echo "# $(( $(date +%s) - STARTED )) s"
finish
