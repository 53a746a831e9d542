#!/usr/bin/env bash
# timing.sh - timing and policy: a bedtime edge crossed by a connection
# already open, and a device that changes its MAC, through the real daemon
# and NFQUEUE.
#
# 1. The kid's profile has bedtime (block = "all") two hours from now;
#    safegated runs on the test clock (-T), started LEAD seconds before the
#    edge.  Before it, the kid opens a plain-HTTP download from a server
#    in wan that sends a line every 0.25 s for 10 s (port 8080, judged as
#    connections.ports); the edge passes while it runs.
# 2. On the wall clock (outside bedtime) the kid's device, known by its
#    MAC, takes a new, random MAC, as phones do per network: it is then an
#    unknown device, and gets default_profile.
. "$(dirname "$0")/lib.sh"
bp_need
trap cleanup EXIT
export TZ=Europe/London	# the daemon and date(1) in one zone
net_up
ip -n "$LAN" link set dev "sgl$ID" address $KIDMAC
wan_up

cat >"$T/rtr.hosts" <<HOSTS
10.78.0.10 news.test adult.test chat.test
HOSTS
list() { local f=$1; shift; printf '%s\n' '# bypass timing.sh' "$@" >"$T/$f.domains"; }
list adult adult.test
list anon-chat chat.test

now=$(date +%s)
BED=$(date -d @$((now + 7200)) +%H:%M)
EDGE=$(date -d "$BED" +%s)
[ "$EDGE" -gt "$now" ] || EDGE=$(date -d "tomorrow $BED" +%s)
BED_END=$(date -d @$((EDGE + 3600)) +%H:%M)
[ "$BED_END" != "$BED" ] || BED_END=$(date -d @$((EDGE + 7200)) +%H:%M)
LEAD=4
# conf DEFAULT_PROFILE
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 74 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
dhcp_leases = "";
lists = ( { category = "adult"; files = [ "adult.domains" ]; },
          { category = "anon-chat"; files = [ "anon-chat.domains" ]; } );
block = [ ];
devices = ( { name = "kid"; mac = "$KIDMAC"; profile = "child"; } );
default_profile = "$1";
profiles = {
  default = { block = [ "anon-chat" ]; };
  child = { block = [ "adult", "anon-chat" ];
            schedules = { bedtime = { when = "daily $BED-$BED_END";
                                      block = "all"; }; }; };
};
connections = { ports = [ 8080 ]; };
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; };
CONF
}
conf default

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/rtr.hosts"
# The slow server: after the request's header, a line every 0.25 s.
bg slow ip netns exec "$WAN" python3 -c '
import socket, threading, time
def serve(c):
    try:
        c.recv(4096)
        c.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
        for i in range(40):
            c.sendall(b"tick %d\n" % i)
            time.sleep(0.25)
    except OSError:
        pass
    c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.78.0.10", 8080))
s.listen(8)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
'
kq() { in_lan dig +time=2 +tries=1 @10.77.0.1 "$@" 2>&1; }
wait_dns kq news.test || { not_ok "setup: dnsmasq answers"; exit 1; }
wan_wait
slow_up() { rawtls 10.78.0.10 8080 474554202f20485454502f312e300d0a0d0a | grep -q '^answered'; }
wait_dns slow_up || { not_ok "setup: the slow server answers"; exit 1; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# until_out SECONDS PATTERN COMMAND...: until the output matches.
until_out() {
	local secs=$1 pat=$2 end; shift 2
	end=$(($(ms) + secs * 1000))
	while :; do
		"$@" >"$T/poll.out" 2>&1
		grep -Eq -- "$pat" "$T/poll.out" && return 0
		[ "$(ms)" -lt "$end" ] || { cat "$T/poll.out"; return 1; }
		sleep 0.2
	done
}

# === 1. a bedtime edge crossed mid-connection ===================================
echo "# bedtime daily $BED-$BED_END; the test clock starts $LEAD s before it"
safegated_start "$T/sg.conf" -T @$((EDGE - LEAD)) ||
	{ not_ok "setup: safegated starts on the test clock"; exit 1; }
ok "setup: safegated starts on the test clock"
: >"$T/ticks"
bg stream ip netns exec "$LAN" curl -sN --max-time 20 \
	--resolve news.test:8080:10.78.0.10 -o "$T/ticks" http://news.test:8080/
check "setup: before bedtime, the kid's download of news.test starts" \
	until_out 3 '^tick 1$' cat "$T/ticks"

bedtime() {
	local a b e out
	until_out $((LEAD + 8)) 'status: NXDOMAIN' kq news.test ||
	    { echo "bedtime never came"; return 1; }
	a=$(grep -c tick "$T/ticks")
	e=$(ev_mark)
	out=$(in_lan curl -sS --max-time 5 --resolve news.test:8080:10.78.0.10 \
	    http://news.test:8080/ 2>&1)
	want "a new connection to news.test at bedtime" 'reset by peer|Empty reply' "$out" || return 1
	ev_new "$e" '"kind":"http",.*"device":"kid",.*"name":"news\.test",.*"reason":"schedule","schedule":"bedtime","action":"reset"' || return 1
	sleep 1.5
	b=$(grep -c tick "$T/ticks")
	want "ticks of the open download after bedtime ($a at the edge)" "^[0-9]+$" "$b" &&
	[ "$b" -gt "$a" ] || { echo "the open download stopped at the edge: $a -> $b"; return 1; }
	until_out 12 '^tick 39$' cat "$T/ticks" || { echo "the download did not finish"; return 1; }
	# its packets passed on the connection's decided mark, in the kernel
	want "packets returned on the decided connmark" '^[1-9]' "$(in_rtr iptables \
	    -L SAFEGATE_FORWARD -v -n -x | awk '/RETURN/ && /connmark match +0x10000000\/0x10000000/ { print $1 }')" || return 1
	echo "# $a ticks before the edge was seen, $(grep -c tick "$T/ticks") in all"
}
limit "a bedtime edge crossed mid-connection" \
	"a connection decided before the edge stays decided in the kernel (connmark) and runs on; new lookups and connections are refused from the edge" \
	bedtime
sed -n 's/^# /# /p' "$T/last.out"
safegated_stop
check "the daemon on the test clock stopped cleanly" test "$SG_STATUS" = 0

# === 2. a randomised MAC ==========================================================
safegated_start "$T/sg.conf" || { not_ok "setup: safegated starts"; exit 1; }
ok "setup: safegated starts on the wall clock"
check_out "setup: the kid's own MAC: adult.test is NXDOMAIN" 'status: NXDOMAIN' kq adult.test
NEWMAC=$(printf '02:%02x:%02x:%02x:%02x:%02x' $((RANDOM % 256)) $((RANDOM % 256)) \
	$((RANDOM % 256)) $((RANDOM % 256)) $((RANDOM % 256)))
ip -n "$LAN" link set dev "sgl$ID" down
ip -n "$LAN" link set dev "sgl$ID" address "$NEWMAC"
ip -n "$LAN" link set dev "sgl$ID" up
ip -n "$RTR" neigh flush dev "sgrl$ID"
wait_dns kq news.test || { not_ok "setup: the new MAC reaches the router"; exit 1; }
echo "# the kid's device now has MAC $NEWMAC"

newmac_default() {
	local e
	want "adult.test" '^10\.78\.0\.10$' "$(kq adult.test +short)" || return 1
	e=$(ev_mark)
	want "chat.test" 'status: NXDOMAIN' "$(kq chat.test)" || return 1
	ev_new "$e" "\"mac\":\"$NEWMAC\",\"device\":null,\"profile\":\"default\",\"name\":\"chat\\.test\""
}
limit "a randomised MAC (default_profile = default)" \
	"an unknown MAC is an unknown device: it gets default_profile (recorded as device null; make the strict profile the default)" \
	newmac_default
conf child
check "setup: reload with default_profile = child" ctl reload
newmac_child() {
	local e
	e=$(ev_mark)
	want "adult.test" 'status: NXDOMAIN' "$(kq adult.test)" &&
	ev_new "$e" "\"mac\":\"$NEWMAC\",\"device\":null,\"profile\":\"child\",\"name\":\"adult\\.test\""
}
holds "a randomised MAC (default_profile = child)" newmac_child

safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
check_out "no safegate rule is left" '^0$' rules_left
finish
