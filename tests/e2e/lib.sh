# lib.sh - shared by the end-to-end tests: namespaces, servers, assertions.
#
# Each test builds its own network in namespaces named after its pid, so
# tests never touch the host's network and never reach beyond it:
#
#   lan (client) --veth-- router (safegated, dnsmasq) --veth-- wan (dnsmasq)
#   10.77.0.2/24          10.77.0.1  |  10.78.0.1            10.78.0.2/24
#   fd77::2/64            fd77::1    |  fd78::1              fd78::2/64
#
# The router forwards between lan and wan, so queries from lan to the wan
# resolver cross its FORWARD hook, queries to the router cross INPUT, and
# the router's own queries cross OUTPUT.

set -u

BUILD=${BUILD:-build}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
ID=$$
LAN=sg-lan-$ID
RTR=sg-rtr-$ID
WAN=sg-wan-$ID
LAN2=sg-lan2-$ID	# only with lan2_up
T=$(mktemp -d /tmp/safegate-e2e.XXXXXX)
# Started as root, safegated becomes the user "safegate" when there is one
# (priv.h).  The tests' daemons are given -u root, so that what they can
# read and write does not depend on whether this machine has that user:
# they stay uid 0, confined all the same (bounding set, seccomp filters).
# tests/e2e/priv.sh switches to a user of its own.
SG_USER="-u root"
chmod 755 "$T"
PASS=0
FAIL=0
N=0

in_lan() { ip netns exec "$LAN" "$@"; }
in_rtr() { ip netns exec "$RTR" "$@"; }
in_wan() { ip netns exec "$WAN" "$@"; }
in_lan2() { ip netns exec "$LAN2" "$@"; }

ok() {
	N=$((N + 1)); PASS=$((PASS + 1))
	echo "ok $N - $*"
}

not_ok() {
	N=$((N + 1)); FAIL=$((FAIL + 1))
	echo "not ok $N - $*"
}

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
	local desc=$1; shift
	if "$@" >"$T/last.out" 2>&1; then ok "$desc"
	else not_ok "$desc"; sed 's/^/#   /' "$T/last.out" | head -20; fi
}

# check_out DESCRIPTION PATTERN COMMAND...: output matches the ERE.
check_out() {
	local desc=$1 pat=$2; shift 2
	"$@" >"$T/last.out" 2>&1
	if grep -Eq -- "$pat" "$T/last.out"; then ok "$desc"
	else not_ok "$desc (wanted /$pat/)"; sed 's/^/#   /' "$T/last.out" | head -20; fi
}

# check_not_out DESCRIPTION PATTERN COMMAND...: output does not match.
check_not_out() {
	local desc=$1 pat=$2; shift 2
	"$@" >"$T/last.out" 2>&1
	if grep -Eq -- "$pat" "$T/last.out"; then
		not_ok "$desc (unwanted /$pat/)"; sed 's/^/#   /' "$T/last.out" | head -20
	else ok "$desc"; fi
}

need_root() {
	if [ "$(id -u)" != 0 ]; then
		echo "not ok - end-to-end tests need root (namespaces, NFQUEUE): run 'sudo make test'"
		exit 1
	fi
	for tool in ip iptables ip6tables dnsmasq dig drill; do
		command -v $tool >/dev/null || { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
	done
}

net_up() {
	ip netns add "$LAN"; ip netns add "$RTR"; ip netns add "$WAN"
	ip link add "sgl$ID" netns "$LAN" type veth peer name "sgrl$ID" netns "$RTR"
	ip link add "sgw$ID" netns "$WAN" type veth peer name "sgrw$ID" netns "$RTR"
	for ns in "$LAN" "$RTR" "$WAN"; do ip -n "$ns" link set lo up; done
	ip -n "$LAN" addr add 10.77.0.2/24 dev "sgl$ID"
	ip -n "$LAN" addr add fd77::2/64 dev "sgl$ID" nodad
	ip -n "$RTR" addr add 10.77.0.1/24 dev "sgrl$ID"
	ip -n "$RTR" addr add fd77::1/64 dev "sgrl$ID" nodad
	ip -n "$RTR" addr add 10.78.0.1/24 dev "sgrw$ID"
	ip -n "$RTR" addr add fd78::1/64 dev "sgrw$ID" nodad
	ip -n "$WAN" addr add 10.78.0.2/24 dev "sgw$ID"
	ip -n "$WAN" addr add fd78::2/64 dev "sgw$ID" nodad
	ip -n "$LAN" link set "sgl$ID" up
	ip -n "$RTR" link set "sgrl$ID" up
	ip -n "$RTR" link set "sgrw$ID" up
	ip -n "$WAN" link set "sgw$ID" up
	ip -n "$LAN" route add default via 10.77.0.1
	ip -n "$LAN" -6 route add default via fd77::1
	ip -n "$WAN" route add default via 10.78.0.1
	ip -n "$WAN" -6 route add default via fd78::1
	in_rtr sysctl -qw net.ipv4.ip_forward=1
	in_rtr sysctl -qw net.ipv6.conf.all.forwarding=1
}

# lan2_up [MAC]: a second lan namespace (after net_up), on its own veth to
# the router and its own subnets, for a second client:
#
#   lan2 (client) --veth-- router
#   10.79.0.2/24           10.79.0.1
#   fd79::2/64             fd79::1
#
# MAC, if given, is the lan2 end's hardware address (what the router sees).
lan2_up() {
	ip netns add "$LAN2"
	ip link add "sgm$ID" netns "$LAN2" type veth peer name "sgrm$ID" netns "$RTR"
	ip -n "$LAN2" link set lo up
	if [ -n "${1:-}" ]; then ip -n "$LAN2" link set dev "sgm$ID" address "$1"; fi
	ip -n "$LAN2" addr add 10.79.0.2/24 dev "sgm$ID"
	ip -n "$LAN2" addr add fd79::2/64 dev "sgm$ID" nodad
	ip -n "$RTR" addr add 10.79.0.1/24 dev "sgrm$ID"
	ip -n "$RTR" addr add fd79::1/64 dev "sgrm$ID" nodad
	ip -n "$LAN2" link set "sgm$ID" up
	ip -n "$RTR" link set "sgrm$ID" up
	ip -n "$LAN2" route add default via 10.79.0.1
	ip -n "$LAN2" -6 route add default via fd79::1
}

# dnsmasq NS NAME ADDRESSES HOSTS: an authoritative-only resolver answering
# from a hosts file, never forwarding anywhere.
dnsmasq_start() {
	local ns=$1 name=$2 addrs=$3 hosts=$4
	ip netns exec "$ns" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--addn-hosts="$hosts" --listen-address="$addrs" --bind-interfaces \
		--user=root --group=root --pid-file="$T/$name.pid" --local-ttl=60 \
		--log-facility="$T/$name.log" --log-queries --cache-size=0 &
	echo $! >"$T/$name.bgpid"
}

# Waits until the router's resolver answers (it must, before we test).
wait_dns() {
	local i
	for i in $(seq 1 50); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	return 1
}

# safegated_start CONFIG [ARGS...]: runs the daemon in the router and waits
# until it says it is filtering.  With -d unless SG_DEBUG is set empty.
safegated_start() {
	local conf=$1; shift
	: >"$T/safegated.log"
	# Not through in_rtr: $! must be the daemon (ip netns exec execs it),
	# not a subshell, or signals would miss it.
	ip netns exec "$RTR" "$TOP/$BUILD/safegated" -f ${SG_DEBUG--d} $SG_USER -c "$conf" "$@" \
		>>"$T/safegated.log" 2>&1 &
	SG_PID=$!
	local i
	for i in $(seq 1 100); do
		if grep -q 'filtering' "$T/safegated.log"; then return 0; fi
		if ! kill -0 $SG_PID 2>/dev/null; then break; fi
		sleep 0.1
	done
	echo "# safegated did not start:"; sed 's/^/#   /' "$T/safegated.log"
	return 1
}

# sg_start: safegated_start on $T/sg.conf without -d: the log as an
# operator has it (a debug line per packet would make a load test a test
# of the log file).
sg_start() { SG_DEBUG= safegated_start "$T/sg.conf"; }

# udp_sink PORT FILE: a syslog receiver on the router's 127.0.0.1:PORT,
# each datagram appended to FILE with a newline; back once it is bound
# (what is sent before is lost), 1 if it never is.  cleanup stops it.
udp_sink() {
	# It writes its own pid down: python3 may be a wrapper that forks.
	ip netns exec "$RTR" python3 -c '
import os, socket, sys
open(sys.argv[3], "w").write("%d\n" % os.getpid())
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
f = open(sys.argv[2], "ab", buffering=0)
while True:
    d, a = s.recvfrom(65535)
    f.write(d + b"\n")' "$1" "$2" "$T/udp-$1.bgpid" &
	local i
	for i in $(seq 1 100); do
		ip netns exec "$RTR" ss -Hlun "sport = :$1" | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

# Stops the daemon with SIGTERM; SG_STATUS is its exit status.
safegated_stop() {
	SG_STATUS=
	if [ -n "${SG_PID:-}" ] && kill -0 "$SG_PID" 2>/dev/null; then
		kill -TERM "$SG_PID"
		wait "$SG_PID" 2>/dev/null
		SG_STATUS=$?
	fi
	SG_PID=
}

# No sanitizer report in the daemon's log (make SAN=1 test).
no_sanitizer_report() {
	! grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/safegated.log"
}

ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/control.sock" "$@"; }

# stat NAME: one counter from safegatectl stats.
stat() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }

# Every rule of ours in the router, whichever backend put it up.
our_rules() {
	{
		for t in iptables ip6tables; do
			for c in INPUT FORWARD OUTPUT; do
				in_rtr $t -S SAFEGATE_$c 2>/dev/null
			done
		done
		in_rtr nft list table inet safegate 2>/dev/null
	} | grep -E 'NFQUEUE|queue '
}

# The number of safegate objects left in the router's firewall.
rules_left() {
	{ in_rtr iptables -S; in_rtr ip6tables -S; } 2>/dev/null | grep -c SAFEGATE
	in_rtr nft list table inet safegate >/dev/null 2>&1 && echo "nft table left"
	return 0
}

cleanup() {
	set +e
	safegated_stop
	for f in "$T"/*.bgpid; do
		[ -e "$f" ] && kill "$(cat "$f")" 2>/dev/null
	done
	wait 2>/dev/null
	ip netns del "$LAN" 2>/dev/null
	ip netns del "$RTR" 2>/dev/null
	ip netns del "$WAN" 2>/dev/null
	ip netns del "$LAN2" 2>/dev/null
	if [ "$FAIL" -gt 0 ] && [ -n "${KEEP:-}" ]; then
		echo "# kept $T"
	else
		rm -rf "$T"
	fi
}

finish() {
	echo "# $PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
}
