#!/usr/bin/env bash
# tls_quic.sh - reshaped ClientHellos, QUIC Initials and plain-HTTP hosts
# against the block, through the real daemon and NFQUEUE to real servers
# in wan (openssl s_server on 443, python3's HTTP server on 80, a UDP 443
# listener that notes every datagram it gets).
#
# TLS clients: tlsc.py (OpenSSL through Python's ssl, its ClientHello put
# on the wire in 1-byte segments or split records as asked) and curl;
# hellos no client here can send (ECH) and QUIC Initials (v1, v2,
# coalesced, padded, spread over datagrams) come from tests/tools/sg-hello.
# The kid's device (by MAC) has a profile that blocks blocked.test, with
# bypass.ech on; connections.no_sni starts "allow" and .quic "inspect",
# and both are set to "block" by reload.  Two checks pause 11 s inside a
# hello (past safegated's 10 s wait for a name); they run side by side.
. "$(dirname "$0")/lib.sh"
bp_need
trap cleanup EXIT
net_up
ip -n "$LAN" link set dev "sgl$ID" address $KIDMAC
wan_up

cat >"$T/rtr.hosts" <<HOSTS
10.78.0.10 allowed.test blocked.test public.test
HOSTS
printf '%s\n' '# bypass tls_quic.sh' blocked.test >"$T/testcat.domains"
# conf NO_SNI QUIC
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 73 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
dhcp_leases = "";
lists = ( { category = "testcat"; files = [ "testcat.domains" ]; } );
block = [ ];
devices = ( { name = "kid"; mac = "$KIDMAC"; profile = "child"; } );
default_profile = "default";
profiles = {
  default = { };
  child = { block = [ "testcat" ]; bypass = { ech = true; }; };
};
connections = { no_sni = "$1"; quic = "$2"; };
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; };
CONF
}
conf allow inspect
dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/rtr.hosts"
wait_dns in_lan dig +time=1 +tries=1 @10.77.0.1 allowed.test ||
	{ not_ok "setup: dnsmasq answers"; exit 1; }
wan_wait
check_out "setup: without safegated, 1-byte segments for blocked.test complete the handshake" \
	'^handshake ok' tlsc 10.78.0.10 443 blocked.test seg1
Q=$("$HELLO" quic -c -P 64 -s blocked.test)
udps 10.78.0.10 443 "$Q"
check_out "setup: without safegated, a QUIC Initial for blocked.test arrives" '^1$' udp_seen
safegated_start "$T/sg.conf" || { not_ok "setup: safegated starts"; exit 1; }
ok "setup: safegated starts"

# reset_named ADDRESS SNI MODE: tlsc is reset, counted, with its event.
reset_named() {
	local b e out
	b=$(stat drop_blocked_reset)
	e=$(ev_mark)
	out=$(tlsc "$1" 443 "$2" "$3")
	want "tlsc $*" '^reset$' "$out" || return 1
	more drop_blocked_reset "$b" || return 1
	ev_new "$e" '"kind":"tls","transport":"tcp",.*"device":"kid",.*"name":"blocked\.test",.*"action":"reset"'
}
# connects ADDRESS SNI MODE
connects() { want "tlsc $*" '^handshake ok' "$(tlsc "$1" 443 "$2" "$3")"; }

check "baseline: TLS named blocked.test is reset, IPv4 and IPv6" \
	eval 'reset_named 10.78.0.10 blocked.test plain && reset_named fd78::10 blocked.test plain'
check "baseline: TLS named allowed.test connects" connects 10.78.0.10 allowed.test plain

# --- the ClientHello reshaped ---------------------------------------------------------
# One byte a segment: the firewall queues a connection's first 12 packets
# only, and a hello still unfinished by then used to go on unjudged.  A
# flow that has not named itself in 8 packets is now refused (flow.h): an
# allowed name sent so is reset too, which no real client does.
seg1() {
	local b out
	b=$(stat drop_malformed)
	out=$(tlsc 10.78.0.10 443 blocked.test seg1)
	want "blocked.test, 1-byte segments" '^reset$' "$out" || return 1
	more drop_malformed "$b" || return 1
	want "allowed.test, 1-byte segments (refused as well)" '^reset$' \
	    "$(tlsc 10.78.0.10 443 allowed.test seg1)"
}
holds "ClientHello in 1-byte TCP segments" seg1
two_records() {
	reset_named 10.78.0.10 blocked.test rec2 &&
	connects 10.78.0.10 allowed.test rec2
}
holds "ClientHello split across two TLS records" two_records

# A pause longer than safegated's wait for a name (10 s) inside the hello:
# the TLS one and a QUIC one run side by side, to wait the time once.  The
# rest of the TLS hello used to be read as a stream of its own, found to
# be neither TLS nor HTTP, and settled as allowed; QUIC's second Initial,
# a piece of a new flow, passed as pieces do: either way the server got
# the whole hello.  A flow that times out with pieces kept is now
# remembered, and its next packet refused (flow.h).
QSTALL=5157a11ed0000001
# stall_start DCID
stall_start() {
	bg pause in_lan python3 "$BP/tlsc.py" 10.78.0.10 443 blocked.test pause
	bg qstall in_lan python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i, h in enumerate(sys.argv[1:]):
    if i:
        time.sleep(11)
    s.sendto(bytes.fromhex(h), ("10.78.0.10", 443))
' $("$HELLO" quic -s blocked.test -n 2 -d $1)
}
# stall_wait: until they are done (their pids, not every child's)
stall_wait() {
	local i j busy
	for i in $(seq 1 400); do
		busy=
		for j in pause qstall; do
			[ -e "$T/$j.bgpid" ] && kill -0 "$(cat "$T/$j.bgpid")" \
			    2>/dev/null && busy=1
		done
		[ -n "$busy" ] || break
		sleep 0.1
	done
	sleep 0.3
}
# Each stalled flow is marked blocked in the kernel as it gives way, and
# both ends are reset (ctmark.h, server.c): whichever packet makes the
# table see the stall, the rest is refused, never handed to the server.
# A reset that comes while the client sleeps shows on its next send; a
# timeout (the reset lost, the rest dropped in the kernel) holds too.
REFUSED='^(reset|timeout|error .*(Broken pipe|Connection reset))'
PAUSE_CT=$(stat flows_ct_marked)
stall_start $QSTALL
stall_wait
want_pause() {
	want "the hello's record header, 11 s, the rest" "$REFUSED" "$(cat "$T/pause.log")" &&
	want "the TLS and the QUIC connection marked blocked in the kernel" '^([2-9]|[1-9][0-9]+)$' \
	    "$(( $(stat flows_ct_marked) - PAUSE_CT ))"
}
holds "ClientHello with a pause past the wait for a name (10 s)" want_pause
qstall() {
	want "QUIC: two Initials 11 s apart, for blocked.test: arrived (the first)" '^1$' \
	    "$(udp_seen "$QSTALL")"
}
holds "QUIC ClientHello with a pause past the wait for a name" qstall

# The same pause while the same device pushes half hellos through the flow
# table (raw packets, tests/tools/flood, from source ports 20001-22048,
# below the ephemeral ones the later tests' clients use: the connections
# they poison stay blocked while the kernel tracks them, as a tomb's
# would): its stalled flow gives way and
# its tomb is pushed out by newer ones (tombs are bounded), so the rest of
# the hello used to be read as a new stream, neither TLS nor HTTP, and
# let through.  Now a flow that gives way with pieces kept is marked
# blocked in the kernel's connection tracker (ctmark.h), and the rest is
# dropped there, whatever the table remembers.
FLOOD="$TOP/$BUILD/tools/flood"
CT_B=$(stat flows_ct_marked)
bg flush in_lan python3 "$BP/tlsc.py" 10.78.0.10 443 blocked.test pause
sleep 1
in_lan "$FLOOD" -k tls-partial -d 5 -r 4000 -p 2048 -x 7 -n allowed.test \
	-4 10.77.0.2,10.77.0.1,10.78.0.10 >"$T/flush.flood" 2>&1
for i in $(seq 1 300); do
	kill -0 "$(cat "$T/flush.bgpid")" 2>/dev/null || break
	sleep 0.1
done
echo "# tomb flush: the client saw: $(cat "$T/flush.log"); ct marks $CT_B -> $(stat flows_ct_marked) (refused: $(stat flows_ct_refused)); flows_device_full $(stat flows_device_full)"
tomb_flush() {
	want_not "the hello's record header, 11 s of half hellos from the same device, the rest" \
	    '^handshake ok' "$(cat "$T/flush.log")" &&
	want "... refused, or dropped in the kernel" "$REFUSED" "$(cat "$T/flush.log")" &&
	want "connections marked blocked in the kernel" '^[1-9]' \
	    "$(( $(stat flows_ct_marked) - CT_B ))"
}
holds "ClientHello with a pause while its device floods the flow table (its tomb pushed out)" tomb_flush

holds "ClientHello in two records and 1-byte segments" \
	eval 'want "tlsc" "^reset$" "$(tlsc 10.78.0.10 443 blocked.test rec2seg1)"'
holds "SNI in upper case" \
	eval 'reset_named 10.78.0.10 BLOCKED.TEST plain && connects 10.78.0.10 ALLOWED.TEST plain'
# RFC 6066 forbids the dot; safegate refuses the hello as malformed,
# whatever the name (browsers and curl strip the dot themselves).
trailing_dot() {
	local b
	b=$(stat drop_malformed)
	want "blocked.test." '^reset$' "$(tlsc 10.78.0.10 443 blocked.test. plain)" &&
	more drop_malformed "$b" &&
	want "allowed.test. (refused as well)" '^reset$' \
	    "$(tlsc 10.78.0.10 443 allowed.test. plain)"
}
holds "SNI with a trailing dot" trailing_dot

# --- ECH -------------------------------------------------------------------------------
# With ECH the real name travels encrypted; the outer SNI is the
# provider's public name, and that is what is judged.  Instead, bypass.ech
# answers HTTPS/SVCB questions with no data, so a browser gets no ECH key
# and sends the real name in the clear.
ech_outer_allowed() {
	local out
	out=$(rawtls 10.78.0.10 443 "$("$HELLO" tls -e -s public.test)")
	want "an ECH hello, public name public.test" '^answered 16030' "$out" || return 1
	out=$(in_lan dig +time=2 +tries=1 @10.77.0.1 public.test HTTPS 2>&1 | tr '\n' ' ')
	want "the HTTPS question (bypass.ech)" 'status: NOERROR.*ANSWER: 0,' "$out"
}
limit "ECH (the inner name)" \
	"only the outer, public name is readable (bypass.ech withholds ECH keys: HTTPS/SVCB get no data)" \
	ech_outer_allowed
ech_outer_blocked() {
	local b e
	b=$(stat drop_blocked_reset)
	e=$(ev_mark)
	want "an ECH hello, public name blocked.test" '^reset$' \
	    "$(rawtls 10.78.0.10 443 "$("$HELLO" tls -e -s blocked.test)")" &&
	more drop_blocked_reset "$b" &&
	ev_new "$e" '"kind":"tls",.*"name":"blocked\.test",.*"ech":true'
}
holds "ECH whose outer SNI is blocked" ech_outer_blocked

# --- no SNI ------------------------------------------------------------------------------
nosni_allow() {
	local b
	b=$(stat accept_no_sni)
	connects 10.78.0.10 - plain && more accept_no_sni "$b"
}
limit "no SNI at all (connections.no_sni = allow)" \
	"no name to judge (counted accept_no_sni; no_sni = block refuses it)" nosni_allow

# --- domain fronting -----------------------------------------------------------------------
# The blocked site's address, an allowed name: nothing on the wire says
# which site the encrypted request is for.
fronting() {
	local e
	e=$(ev_mark)
	want "DNS for blocked.test" 'status: NXDOMAIN' \
	    "$(in_lan dig +time=2 +tries=1 @10.77.0.1 blocked.test 2>&1)" || return 1
	connects 10.78.0.10 allowed.test plain || return 1
	sleep 0.3
	want "events: only the DNS block" '^1$' "$(ev_since "$e" | grep -c .)"
}
limit "domain fronting (a blocked site's IP, an allowed SNI)" \
	"names are judged, not addresses (the DNS lookup is blocked; the connection is not recorded)" fronting

# --- plain HTTP --------------------------------------------------------------------------
http_host() {
	local b
	b=$(stat drop_blocked_reset)
	want "Host: BLOCKED.TEST." '^reset$' "$(rawtls 10.78.0.10 80 "$(printf \
	    'GET / HTTP/1.1\r\nHost: BLOCKED.TEST.\r\n\r\n' | od -An -v -tx1 | tr -d ' \n')")" &&
	want "GET http://blocked.test/ with Host: allowed.test" '^reset$' \
	    "$(rawtls 10.78.0.10 80 "$(printf 'GET http://blocked.test/ HTTP/1.1\r\nHost: allowed.test\r\n\r\n' |
	    od -An -v -tx1 | tr -d ' \n')")" &&
	more drop_blocked_reset "$b" &&
	want "Host: allowed.test" '^answered 485454' "$(rawtls 10.78.0.10 80 "$(printf \
	    'GET / HTTP/1.1\r\nHost: allowed.test\r\n\r\n' | od -An -v -tx1 | tr -d ' \n')")"
}
holds "HTTP Host in upper case with a trailing dot; absolute-form target" http_host

# --- QUIC ------------------------------------------------------------------------------------
# quic_blocked NAME SG_HELLO_ARGS...: the Initial for blocked.test never
# arrives, the drop is counted and recorded; the same for allowed.test
# arrives.
quic_pair() {
	local what=$1 n b e; shift
	n=$(udp_seen)
	b=$(stat drop_blocked_quic)
	e=$(ev_mark)
	udps 10.78.0.10 443 $("$HELLO" quic -s blocked.test "$@")
	want "$what for blocked.test: datagrams that arrived" "^$n\$" "$(udp_seen)" || return 1
	more drop_blocked_quic "$b" || return 1
	ev_new "$e" '"kind":"quic","transport":"udp",.*"device":"kid",.*"name":"blocked\.test",.*"action":"drop"' || return 1
	udps 10.78.0.10 443 $("$HELLO" quic -s allowed.test "$@")
	want "$what for allowed.test: datagrams that arrived" "^$((n + 1))\$" "$(udp_seen)"
}
holds "QUIC Initial, coalesced (two Initials and 0-RTT) and padded" quic_pair "v1 coalesced" -c -P 64
holds "QUIC v2 (RFC 9369), coalesced and padded" quic_pair "v2 coalesced" -v 2 -c -P 64
holds "QUIC v2, padded with PADDING frames" quic_pair "v2" -v 2

# A ClientHello over three Initial datagrams: the first two pass (they
# name nothing), the third completes it and is dropped, and the flow is
# settled as blocked.  Dribbled over 14, past the queue window, the flow
# is refused at its 8th datagram (flow.h).
quic_spread() {
	local n b
	n=$(udp_seen)
	b=$(stat drop_blocked_quic)
	udps 10.78.0.10 443 $("$HELLO" quic -s blocked.test -n 3)
	want "3 datagrams for blocked.test: arrived" "^$((n + 2))\$" "$(udp_seen)" || return 1
	more drop_blocked_quic "$b" || return 1
	n=$(udp_seen)
	b=$(stat drop_malformed)
	udps 10.78.0.10 443 $("$HELLO" quic -s blocked.test -n 14)
	want "14 datagrams for blocked.test: arrived (7, never the whole hello)" \
	    "^$((n + 7))\$" "$(udp_seen)" || return 1
	more drop_malformed "$b"
}
holds "QUIC ClientHello spread over several Initial datagrams" quic_spread

# A version safegate cannot read is not QUIC it can judge; junk datagrams
# first use up the queue window (the firewall queues a flow's first 12
# packets; a datagram says nothing of the next, so junk settles nothing)
# and a real Initial after them is never seen.  connections.quic =
# "block" drops UDP 443 unread: browsers fall back to TCP, judged there.
quic_unread() {
	local n junk="" i
	n=$(udp_seen)
	udps 10.78.0.10 443 $("$HELLO" quic -v 0x1a2a3a4a -s blocked.test)
	want "an unknown version for blocked.test: arrived" "^$((n + 1))\$" "$(udp_seen)" || return 1
	for i in $(seq 1 12); do junk="$junk 00$(printf %02x "$i")deadbeef"; done
	udps 10.78.0.10 443 $junk $("$HELLO" quic -s blocked.test)
	want "12 junk datagrams, then an Initial for blocked.test: arrived" \
	    "^$((n + 14))\$" "$(udp_seen)" || return 1
	want "its first bytes" '^[0-9]+ c' "$(tail -n 1 "$T/udp443.seen")"
}
limit "QUIC of an unknown version, or after junk datagrams" \
	"not QUIC safegate reads, or past the queue window (connections.quic = block drops it)" quic_unread

# --- connections.no_sni and .quic = "block", by reload ------------------------------------
conf block block
check "setup: reload with no_sni = block, quic = block" ctl reload
nosni_block() {
	local b e
	b=$(stat drop_no_sni)
	e=$(ev_mark)
	want "no SNI" '^reset$' "$(tlsc 10.78.0.10 443 - plain)" &&
	more drop_no_sni "$b" &&
	ev_new "$e" '"kind":"tls","transport":"tcp",.*"device":"kid",.*"name":"",.*"action":"reset"'
}
holds "no SNI at all (connections.no_sni = block)" nosni_block
quic_blocked_all() {
	local n b junk="" i
	n=$(udp_seen)
	b=$(stat drop_quic_policy)
	udps 10.78.0.10 443 $("$HELLO" quic -v 0x1a2a3a4a -s blocked.test)
	for i in $(seq 1 12); do junk="$junk 00$(printf %02x "$i")deadbeef"; done
	udps 10.78.0.10 443 $junk $("$HELLO" quic -s blocked.test)
	want "UDP 443: arrived" "^$n\$" "$(udp_seen)" && more drop_quic_policy "$b"
}
holds "QUIC of an unknown version, or after junk (connections.quic = block)" quic_blocked_all
QSTALL2=5157a11ed0000002
stall_start $QSTALL2
stall_wait
holds "QUIC ClientHello with a pause (connections.quic = block)" \
	want "two Initials 11 s apart: arrived" '^0$' "$(udp_seen "$QSTALL2")"

safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
check_out "no safegate rule is left" '^0$' rules_left
finish
