#!/usr/bin/env bash
# conn.sh - connections judged by their names, end to end: a real TLS server
# (openssl s_server) and HTTP server (python3) in wan, curl in lan, the
# router queueing only the first packets of each connection (connbytes),
# and the connection mark taking a decided one off the queue for good.
# QUIC: the RFC 9001 A.2 client Initial (SNI example.com) sent to a UDP
# listener in wan, which must not receive it while the name is blocked.
# The connections settings: an extra TCP port (8443, in the config from the
# start, because the rules are put up only at start), quic = "block" and
# no_sni = "block" (both read from the snapshot, so a reload turns them on).
. "$(dirname "$0")/lib.sh"
need_root
for tool in openssl curl python3; do
	command -v $tool >/dev/null || { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
done
trap cleanup EXIT
net_up

printf '%s\n' '# reserved names only' blocked.test example.com >"$T/conn.domains"
# conf EXTRA: the config, with EXTRA in its connections group.
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 11 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "testcat"; files = [ "conn.domains" ]; } );
block = [ "testcat" ];
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; };
connections = { ports = [ 8443 ]; $1 };
CONF
}
conf ""

# wan: a TLS server answering any name, an HTTP server with a big file,
# and a UDP listener on 443 that writes down every datagram it gets.
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=wan.test \
	-keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1
mkdir -p "$T/www"
echo "hello from wan" >"$T/www/index.html"
head -c 20000000 /dev/zero >"$T/www/big"
ip netns exec "$WAN" openssl s_server -accept 443 -www -cert "$T/cert.pem" \
	-key "$T/key.pem" -quiet >"$T/s_server.log" 2>&1 &
echo $! >"$T/s_server.bgpid"
ip netns exec "$WAN" openssl s_server -accept 8443 -www -cert "$T/cert.pem" \
	-key "$T/key.pem" -quiet >"$T/s_server8443.log" 2>&1 &
echo $! >"$T/s_server8443.bgpid"
ip netns exec "$WAN" python3 -m http.server 80 --bind 10.78.0.2 \
	--directory "$T/www" >"$T/http.log" 2>&1 &
echo $! >"$T/http.bgpid"
ip netns exec "$WAN" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.78.0.2", 443))
while True:
    d, a = s.recvfrom(65535)
    with open(sys.argv[1], "a") as f:
        f.write("%d bytes from %s\n" % (len(d), a[0]))
' "$T/udp.log" &
echo $! >"$T/udp.bgpid"

c() { in_lan curl -sS --max-time 5 "$@"; }
wait_dns c -k --resolve allowed.test:443:10.78.0.2 https://allowed.test/ ||
	{ not_ok "the TLS server answers"; exit 1; }
wait_dns c -k --resolve allowed.test:8443:10.78.0.2 https://allowed.test:8443/ ||
	{ not_ok "the TLS server on 8443 answers"; exit 1; }
wait_dns c --resolve allowed.test:80:10.78.0.2 http://allowed.test/ ||
	{ not_ok "the HTTP server answers"; exit 1; }
check_out "without safegated, blocked.test is served over TLS" 's_server' \
	c -k --resolve blocked.test:443:10.78.0.2 https://blocked.test/

safegated_start "$T/sg.conf" || { not_ok "safegated starts"; exit 1; }
ok "safegated starts"

# reset DESCRIPTION COMMAND...: the command fails as a reset does, and
# safegated counted one more reset for it (so a server that is down, or
# a timeout, cannot pass for a block).
reset() {
	local desc=$1 before after; shift
	before=$(stat drop_blocked_reset)
	"$@" >"$T/last.out" 2>&1
	after=$(stat drop_blocked_reset)
	if grep -Eq 'reset by peer|SSL_ERROR_SYSCALL|Empty reply' "$T/last.out" &&
	    [ "$after" -gt "$before" ]; then ok "$desc"
	else not_ok "$desc (resets $before -> $after)"; sed 's/^/#   /' "$T/last.out" | head -5; fi
}

# --- TLS --------------------------------------------------------------------
check_out "TLS: an allowed name gets its page" 's_server' \
	c -k --resolve allowed.test:443:10.78.0.2 https://allowed.test/
reset "TLS: a blocked name is reset" \
	c -k --resolve blocked.test:443:10.78.0.2 https://blocked.test/
reset "TLS: a subdomain of a blocked name, in upper case, is reset" \
	c -k --resolve WWW.BLOCKED.TEST:443:10.78.0.2 https://WWW.BLOCKED.TEST/
check_out "events: a tls line for the blocked name" \
	'"kind":"tls","transport":"tcp","client":"10\.77\.0\.2".*"name":"blocked\.test".*"action":"reset"' \
	cat "$T/events.jsonl"

# --- connections.ports: 8443 is judged like 443 -----------------------------
check_out "port 8443: an allowed name gets its page" 's_server' \
	c -k --resolve allowed.test:8443:10.78.0.2 https://allowed.test:8443/
reset "port 8443: a blocked name is reset" \
	c -k --resolve blocked.test:8443:10.78.0.2 https://blocked.test:8443/
check_out "the rules queue TCP 80,443,8443" '80,443,8443' \
	in_rtr iptables -S SAFEGATE_FORWARD

# --- no_sni = "allow": a ClientHello without SNI is let through ------------
# s_client: "Cipher is TLS_..." when the handshake completed, "(NONE)" not.
noname() {
	in_lan timeout 5 openssl s_client -connect 10.78.0.2:443 -noservername \
		</dev/null
}
check_out "no_sni allow: a hello without SNI connects" 'Cipher is [A-Z]' noname
check_out "and is counted" '^[1-9]' stat accept_no_sni

# --- HTTP -------------------------------------------------------------------
check_out "HTTP: an allowed host gets its page" 'hello from wan' \
	c --resolve allowed.test:80:10.78.0.2 http://allowed.test/
reset "HTTP: a blocked host is reset" \
	c --resolve blocked.test:80:10.78.0.2 http://blocked.test/
check_out "events: an http line for the blocked host" \
	'"kind":"http".*"name":"blocked\.test".*"action":"reset"' cat "$T/events.jsonl"

# --- the connection mark: a decided download leaves the queue ---------------
before=$(stat queue11_packets)
check_out "a 20 MB download through the router completes" '^20000000$' \
	c -o /dev/null -w '%{size_download}' --resolve allowed.test:80:10.78.0.2 \
	http://allowed.test/big
after=$(stat queue11_packets)
check "and queues a handful of packets, not thousands ($before -> $after)" \
	test $((after - before)) -le 12
check_out "its later packets passed on the decided mark, in the kernel" '^[1-9]' \
	sh -c "ip netns exec $RTR iptables -L SAFEGATE_FORWARD -v -n -x |
	awk '/RETURN/ && /connmark match +0x10000000\/0x10000000/ { print \$1 }'"

# --- QUIC -------------------------------------------------------------------
INITIAL=$(od -An -v -tx1 "$TOP/tests/fuzz/seeds/quic/rfc9001-a2-client-initial" |
	tr -d ' \n' | cut -c3-)	# the first byte is the fuzzer's selector
in_lan "$TOP/$BUILD/tools/sg-udp" 10.78.0.2 443 "$INITIAL" 500 >/dev/null 2>&1
sleep 0.5
check_out "QUIC: an Initial for a blocked name never reaches the server" '^0$' \
	sh -c "grep -c . '$T/udp.log' 2>/dev/null || echo 0"
check_out "QUIC: the drop is counted" '^[1-9]' stat drop_blocked_quic
check_out "events: a quic line for example.com" '"kind":"quic".*"name":"example\.com".*"action":"drop"' \
	cat "$T/events.jsonl"
printf '%s\n' '# reserved names only' blocked.test >"$T/conn.domains"
rm -f "$T/lists.sgdb"
check "reload without example.com" ctl reload
in_lan "$TOP/$BUILD/tools/sg-udp" 10.78.0.2 443 "$INITIAL" 500 >/dev/null 2>&1
sleep 0.5
check_out "QUIC: once allowed, the Initial reaches the server" '^1$' \
	sh -c "grep -c . '$T/udp.log' 2>/dev/null || echo 0"

# --- quic = "block" and no_sni = "block", by reload --------------------------
conf 'quic = "block"; no_sni = "block";'
check "reload with quic and no_sni blocked" ctl reload
in_lan "$TOP/$BUILD/tools/sg-udp" 10.78.0.2 443 "$INITIAL" 500 >/dev/null 2>&1
sleep 0.5
check_out "quic block: an allowed name's Initial never reaches the server" '^1$' \
	sh -c "grep -c . '$T/udp.log' 2>/dev/null || echo 0"
check_out "quic block: the drop is counted" '^[1-9]' stat drop_quic_policy
check_out "no_sni block: a hello without SNI is reset" \
	'errno=104|Cipher is \(NONE\)' noname
check_out "no_sni block: it is counted" '^[1-9]' stat drop_no_sni
check_out "events: a tls line with an empty name, reset" \
	'"kind":"tls","transport":"tcp".*"name":"","categories":\[\].*"action":"reset"' \
	cat "$T/events.jsonl"
check_out "no_sni block: a hello with SNI still connects" 'Cipher is [A-Z]' \
	in_lan timeout 5 openssl s_client -connect 10.78.0.2:443 \
	-servername allowed.test </dev/null

safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check_out "its rules are gone" '^0$' rules_left
check "no sanitizer report" no_sanitizer_report

# --- rules of one's own, that do not save the mark ---------------------------
# A settled packet comes back to the queue; it must get its verdict from its
# mark, not be settled (and handed back to the hook) again and again.
sed 's/manage = true/manage = false/' "$T/sg.conf" >"$T/own.conf"
cp "$T/safegated.log" "$T/safegated-1.log"
in_rtr iptables -I FORWARD -p tcp --dport 443 -j NFQUEUE --queue-num 11
safegated_start "$T/own.conf" || { not_ok "safegated starts unmanaged"; exit 1; }
check_out "own rules: an allowed name gets its page" 's_server' \
	c -k --resolve allowed.test:443:10.78.0.2 https://allowed.test/
check_out "own rules: the settled packet came back once and was passed" \
	'^[1-9]' stat settled_again
reset "own rules: a blocked name is still reset" \
	c -k --resolve blocked.test:443:10.78.0.2 https://blocked.test/
safegated_stop
in_rtr iptables -D FORWARD -p tcp --dport 443 -j NFQUEUE --queue-num 11
check "no sanitizer report" no_sanitizer_report
finish
