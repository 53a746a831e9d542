# lib.sh - shared by the bypass tests (tests/bypass/*.sh): the end-to-end
# library (namespaces lan/router/wan, dnsmasq, safegated, check), and what
# the bypass tests add to it.
#
# Every technique is one check, printed as
#
#   ok N - TECHNIQUE: holds
#   ok N - TECHNIQUE: known limit: WHY (WHAT SAFEGATE DOES INSTEAD)
#
# and the check's command verifies all of it: that the block held (the
# answer, the reset, the counter, the upstream that never saw it), or, for
# a limit, that the technique does get through and that what safegate does
# instead happened (the event, the indicator, the counter).  A check whose
# command fails prints "not ok" and what its command saw.
#
# Addresses beyond the e2e library's: 10.78.0.10 and fd78::10 in wan, where
# every test name resolves, with a TLS server (443), an HTTP server (80), a
# UDP listener on 443 that notes every datagram (its length and first 16
# bytes), and listeners on 853.
. "$(dirname "$0")/../e2e/lib.sh"

BP=$TOP/tests/bypass
HELLO=$TOP/$BUILD/tools/sg-hello
KIDMAC=02:00:00:77:00:02

bp_need() {
	need_root
	local tool
	for tool in openssl curl python3 dig; do
		command -v $tool >/dev/null ||
		    { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
	done
	for tool in "$TOP/$BUILD/safegated" "$TOP/$BUILD/safegatectl" \
	    "$TOP/$BUILD/tools/sg-udp" "$HELLO"; do
		[ -x "$tool" ] || { echo "not ok - $tool missing: make" \
		    "BUILD=$BUILD bypass-test builds it"; exit 1; }
	done
}

# holds TECHNIQUE COMMAND...: the technique is stopped, as COMMAND shows.
holds() { local t=$1; shift; check "$t: holds" "$@"; }

# limit TECHNIQUE WHY COMMAND...: the technique gets through, and COMMAND
# shows both that and what safegate does instead (WHY says both).
limit() { local t=$1 why=$2; shift 2; check "$t: known limit: $why" "$@"; }

# want WHAT PATTERN TEXT: TEXT matches the ERE; else says what it was.
want() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then return 0; fi
	echo "$1: wanted /$2/, got: $3"
	return 1
}
# want_not WHAT PATTERN TEXT
want_not() {
	if ! printf '%s\n' "$3" | grep -Eq -- "$2"; then return 0; fi
	echo "$1: unwanted /$2/ in: $3"
	return 1
}

# more NAME BEFORE: the counter NAME grew past BEFORE.
more() {
	local now
	now=$(stat "$1")
	[ "${now:-0}" -gt "$2" ] && return 0
	echo "counter $1: $2 -> $now, wanted more"
	return 1
}

# ev_wait PATTERN: an events line matches within 3 s (one writer thread).
ev_wait() {
	local i
	for i in $(seq 1 30); do
		grep -Eq -- "$1" "$T/events.jsonl" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "no event /$1/; the last ones:"
	tail -n 3 "$T/events.jsonl" 2>/dev/null
	return 1
}
# ev_mark / ev_since MARK: the events written after a mark.
ev_mark() { if [ -e "$T/events.jsonl" ]; then wc -l <"$T/events.jsonl"; else echo 0; fi; }
ev_since() { tail -n +$(($1 + 1)) "$T/events.jsonl" 2>/dev/null; }
# ev_new MARK PATTERN: an event after the mark matches, within 3 s.
ev_new() {
	local i
	for i in $(seq 1 30); do
		ev_since "$1" | grep -Eq -- "$2" && return 0
		sleep 0.1
	done
	echo "no new event /$2/; since the mark:"
	ev_since "$1" | tail -n 4
	return 1
}

# log_mark FILE / log_since FILE MARK: a resolver's log after a mark.
log_mark() { wc -l <"$1"; }
log_since() { tail -n +$(($2 + 1)) "$1"; }

# dnsmasq_with NS NAME ADDRESSES HOSTS ARGS...: dnsmasq_start with more
# options (CNAME and MX records).
dnsmasq_with() {
	local ns=$1 name=$2 addrs=$3 hosts=$4
	shift 4
	ip netns exec "$ns" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--addn-hosts="$hosts" --listen-address="$addrs" --bind-interfaces \
		--user=root --group=root --pid-file="$T/$name.pid" --local-ttl=60 \
		--log-facility="$T/$name.log" --log-queries --cache-size=0 "$@" &
	echo $! >"$T/$name.bgpid"
}

# bg NAME COMMAND...: a server in the background, stopped by cleanup.
bg() {
	local name=$1
	shift
	"$@" >"$T/$name.log" 2>&1 &
	echo $! >"$T/$name.bgpid"
}

# wan_up: 10.78.0.10 and fd78::10 in wan, with the servers named above.
# The UDP listener writes "LEN first-bytes-in-hex" per datagram to
# $T/udp443.seen.
wan_up() {
	ip -n "$WAN" addr add 10.78.0.10/24 dev "sgw$ID"
	ip -n "$WAN" addr add fd78::10/64 dev "sgw$ID" nodad
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
		-nodes -days 1 -subj /CN=wan.test -keyout "$T/key.pem" \
		-out "$T/cert.pem" >/dev/null 2>&1
	bg s_server ip netns exec "$WAN" openssl s_server -accept 443 \
		-www -cert "$T/cert.pem" -key "$T/key.pem" -quiet
	mkdir -p "$T/www"
	echo "hello from wan" >"$T/www/index.html"
	bg http ip netns exec "$WAN" python3 -m http.server 80 --bind '::' \
		--directory "$T/www"
	: >"$T/udp443.seen"
	bg udp443 ip netns exec "$WAN" python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", 443))
while True:
    d, a = s.recvfrom(65535)
    with open(sys.argv[1], "a") as f:
        f.write("%d %s\n" % (len(d), d[:16].hex()))
' "$T/udp443.seen"
}

# wan_wait: every wan server answers (before safegated starts).
wan_wait() {
	wait_dns in_lan curl -sk --max-time 1 https://10.78.0.10/ ||
	    { not_ok "setup: the TLS server answers"; exit 1; }
	wait_dns in_lan curl -sk --max-time 1 'https://[fd78::10]/' ||
	    { not_ok "setup: the TLS server answers over IPv6"; exit 1; }
	wait_dns in_lan curl -s --max-time 1 http://10.78.0.10/ ||
	    { not_ok "setup: the HTTP server answers"; exit 1; }
}

# udp_seen [HEX]: datagrams the wan's UDP 443 listener got so far (whose
# first 16 bytes hold HEX: a QUIC DCID, say).
udp_seen() { grep -c -- "${1:-.}" "$T/udp443.seen" || true; }

# tlsc ADDRESS PORT SNI MODE: tlsc.py from lan (see there).
tlsc() { in_lan python3 "$BP/tlsc.py" "$@" 2>&1; }

# rawtls ADDRESS PORT HEX: sends the bytes on a new TCP connection from
# lan and says what came back: "answered HEX" (the server's first bytes),
# "reset", "closed" or "timeout".
rawtls() {
	in_lan python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.settimeout(3)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
    s.sendall(bytes.fromhex(sys.argv[3]))
    d = s.recv(16)
    print("answered " + d.hex() if d else "closed")
except ConnectionResetError:
    print("reset")
except socket.timeout:
    print("timeout")
' "$@" 2>&1
}

# udps ADDRESS PORT HEX...: the datagrams, in order, from one lan socket.
udps() {
	in_lan python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET,
                  socket.SOCK_DGRAM)
for h in sys.argv[3:]:
    s.sendto(bytes.fromhex(h), (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.02)
' "$@"
	sleep 0.3
}
