#!/usr/bin/env bash
# clock.sh - the wall clock jumps back and forward under a running
# safegated, without touching the host's clock.
#
# safegated's -T test clock is an offset fixed at start; nothing moves it
# at run time.  So the daemon (and safegatectl, whose --for ends are wall
# times) run under libfaketime (package libfaketime), LD_PRELOADed, with
# the offset in a file that the test rewrites: time(), gettimeofday() and
# clock_gettime(CLOCK_REALTIME) jump, CLOCK_MONOTONIC does not (as with a
# real clock step: flows, sync timers and the safe hosts' TTLs run on it),
# and file times are the real ones (NO_FAKE_STAT); the daemon runs with
# -U, unconfined (see SG_ARGS below).  TZ=UTC.  D is a day
# some days from now; "kid" (10.77.0.2) has bedtime daily 21:00-22:00.
#
#   1. schedule: D 20:00 news.test answered; jump to D 21:30: blocked
#      (reason schedule) - the per-minute cache must not keep the old
#      answer; back to D 20:59:57: answered again, then blocked when the
#      clock runs on into 21:00.  The time each takes is printed.
#   2. events carry the jumped time: the blocked query at D 21:30 is
#      stamped D 21:30.
#   3. overrides are wall-clock ends: a pause until D 13:00 ends when the
#      clock jumps to D 14:00; an allow until D 13:00 is still in force
#      after a jump back a day (it then lasts a day longer), and ends at a
#      jump past 13:00.  What `overrides` lists and what the client gets
#      always agree.
#   4. the events file rotates at local midnight: D 23:59:58 runs into
#      D+1 00:00 (rotation); the clock steps back 5 s before midnight, a
#      burst makes it rotate by size (a file named by an earlier time than
#      the one before), and the clock runs into midnight again.  The chain
#      must still verify (safegatectl verify-log walks the files in name
#      order), and midnight must rotate again.
#   5. no crash: safegated runs on and stops cleanly.
. "$(dirname "$0")/../e2e/lib.sh"
need_root
FT=${FAKETIME_LIB:-$(ls /usr/lib/*/faketime/libfaketimeMT.so.1 2>/dev/null | head -1)}
if [ -z "$FT" ] || [ ! -e "$FT" ]; then
	echo "not ok - libfaketime missing: run 'make deps' (package libfaketime)"
	exit 1
fi
# A sanitizer build: libfaketime and ASan's runtime do not preload
# together here (the daemon does not start); the plain build runs it.
if ldd "$TOP/$BUILD/safegated" 2>/dev/null | grep -q libasan; then
	echo "ok 1 - # SKIP clock jumps: libfaketime cannot be preloaded into an ASan build"
	exit 0
fi
command -v python3 >/dev/null || { echo "not ok - python3 missing: run 'make deps'"; exit 1; }
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
export TZ=UTC
net_up
# The daemon may run as the user safegate (priv.h): $T readable, and what
# it writes (control socket, state, events) in folders it makes itself.
chmod 0755 "$T"

printf '%s\n' "10.77.9.1 news.test" "10.77.9.1 adult.test" >"$T/rtr.hosts"
printf '%s\n' '# reserved names only' adult.test >"$T/adult.domains"
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 17 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
dhcp_leases = "";
lists = ( { category = "adult"; files = [ "adult.domains" ]; } );
block = [ ];
devices = ( { name = "kid"; ip = "10.77.0.2"; profile = "child"; } );
default_profile = "default";
profiles = {
  default = { };
  child = {
    block = [ "adult" ];
    schedules = { bedtime = { when = "daily 21:00-22:00"; block = "all"; }; };
  };
};
log = { events = "$T/ev/events.jsonl"; level = "info"; rotate_daily = true;
        rotate_size = 65536; };
control = { socket = "$T/ctl/control.sock"; state = "$T/st/state"; };
CONF
"$TOP/$BUILD/safegate-lists" compile -c "$T/sg.conf" -o "$T/lists.sgdb" >"$T/compile.out" 2>&1 ||
	{ not_ok "compile the set"; cat "$T/compile.out"; exit 1; }

# --- the clock ------------------------------------------------------------------
# set_clock EPOCH: the fake clock reads EPOCH now, then runs on.
set_clock() {
	local off=$(( $1 - $(date +%s) ))
	[ $off -ge 0 ] && off=+$off
	echo "$off" >"$T/clock.rc.tmp" && mv "$T/clock.rc.tmp" "$T/clock.rc"
}
fake() { env LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$T/clock.rc" FAKETIME_NO_CACHE=1 \
	FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 "$@"; }
fake_now() { fake date +%s; }
D=$(( ($(date +%s) / 86400 + 3) * 86400 ))	# a midnight, UTC, three days on
at() { echo $((D + $1)); }			# at SECONDS-after-D's-midnight
day() { date -u -d @"$1" +%Y-%m-%d; }
hm() { date -u -d @"$(fake_now)" '+%Y-%m-%d %H:%M:%S'; }

# libfaketime reads its offset file on every clock call, from whichever
# thread makes it; the queue workers' system call filter (priv.h) refuses
# them the open (EPERM), and the jumps would never reach the packet path.
# So the daemon runs unconfined here (-U), where it has the option.
SG_ARGS=
"$TOP/$BUILD/safegated" -h 2>&1 | grep -q -- '^ *-U ' && SG_ARGS=-U
ctl() { fake ip netns exec "$RTR" "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }
sg_start() {
	: >"$T/safegated.log"
	ip netns exec "$RTR" env LD_PRELOAD="$FT" FAKETIME_TIMESTAMP_FILE="$T/clock.rc" \
		FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 NO_FAKE_STAT=1 \
		"$TOP/$BUILD/safegated" -f $SG_USER -c "$T/sg.conf" $SG_ARGS >>"$T/safegated.log" 2>&1 &
	SG_PID=$!
	local i
	for i in $(seq 1 200); do
		grep -q 'filtering' "$T/safegated.log" && return 0
		kill -0 $SG_PID 2>/dev/null || break
		sleep 0.05
	done
	echo "# safegated did not start:"; sed 's/^/#   /' "$T/safegated.log"
	return 1
}

# kq NAME: what kid gets: the address, NXDOMAIN or "no answer".
kq() {
	local out
	out=$(in_lan dig +time=1 +tries=1 @10.77.0.1 "$1" A 2>&1)
	if echo "$out" | grep -q 'status: NXDOMAIN'; then echo NXDOMAIN
	elif echo "$out" | grep -q 'status: NOERROR'; then echo answered
	else echo "no answer"; fi
}
# within SECONDS WANT NAME: polls kq NAME until it says WANT; prints the
# milliseconds it took ("never" past SECONDS).
within() {
	local t0=${EPOCHREALTIME/./} end=$(( $(date +%s) + $1 ))
	while [ "$(date +%s)" -le $end ]; do
		if [ "$(kq "$3")" = "$2" ]; then
			echo $(( (${EPOCHREALTIME/./} - t0) / 1000 ))
			return 0
		fi
		sleep 0.1
	done
	echo never
	return 1
}
ms_ok() { [ "$1" != never ]; }
last_event() { tail -n 1 "$T/ev/events.jsonl"; }
# rotated: the rotated events files, in name order (verify-log's order).
rotated() { ls "$T/ev" | grep '^events\.jsonl\.[0-9]' | sort; }

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1 "$T/rtr.hosts"
wait_dns in_lan dig +time=1 +tries=1 @10.77.0.1 news.test || { not_ok "router dnsmasq answers"; exit 1; }

set_clock "$(at $((20 * 3600)))"
check_out "libfaketime moves the clock of what runs under it (D 20:00)" "^$(day "$D") 20:00" hm
sg_start || { not_ok "safegated starts under libfaketime"; exit 1; }
ok "safegated starts under libfaketime"

# === 1, 2: the schedule =======================================================
check_out "D 20:00: kid's news.test answered (before bedtime)" '^answered$' kq news.test
set_clock "$(at $((21 * 3600 + 1800)))"
ms=$(within 65 NXDOMAIN news.test)
echo "# jump forward to D 21:30: blocked after $ms ms"
check "jump forward into bedtime (D 21:30): news.test blocked within a minute ($ms ms)" ms_ok "$ms"
check_out "... the event is stamped with the new time (D 21:30)" \
	"\"ts\":\"$(day "$D")T21:3[01]:.*\"name\":\"news\\.test\".*\"reason\":\"schedule\"" last_event
check_out "... explain: blocked by the schedule" '^decision: block \(schedule bedtime\)$' \
	ctl explain kid news.test
set_clock "$(at $((20 * 3600 + 59 * 60 + 57)))"
ms=$(within 65 answered news.test)
echo "# jump back to D 20:59:57: answered after $ms ms"
check "jump back out of bedtime (D 20:59:57): news.test answered within a minute ($ms ms): no stale minute" \
	ms_ok "$ms"
ms=$(within 65 NXDOMAIN news.test)
echo "# ... then blocked $ms ms later, at $(hm)"
check "... and blocked again when the clock runs on into 21:00 ($ms ms)" ms_ok "$ms"

# === 3: overrides ================================================================
set_clock "$(at $((12 * 3600)))"
check_out "D 12:00: pause kid --for 1h" 'kid paused until' ctl pause kid --for 1h
check_out "... news.test blocked (pause)" '^NXDOMAIN$' kq news.test
check_out "... the pause ends at D 13:00" "^pause kid $(at $((13 * 3600)))\$" \
	sh -c "cat '$T/st/state' 2>/dev/null | grep '^pause'"
set_clock "$(at $((14 * 3600)))"
ms=$(within 5 answered news.test)
check "jump forward past the pause's end (D 14:00): news.test answered ($ms ms)" ms_ok "$ms"
check_not_out "... overrides lists no pause" 'paused' ctl overrides
# Back before the end: the entry's until (a wall time) is ahead again.
# Whether it is still there depends on a prune having run (the main
# loop's, after a minute without control requests): either way the
# listing and the policy must agree.
set_clock "$(at $((12 * 3600 + 1800)))"
got=$(kq news.test)
listed=$(ctl overrides | grep -c 'kid: paused')
echo "# jump back to D 12:30 (pause ends 13:00): news.test $got; pause listed: $listed"
check "... the policy and overrides agree (news.test $got, pause listed $listed)" \
	test "$got/$listed" = NXDOMAIN/1 -o "$got/$listed" = answered/0
ctl resume kid >/dev/null 2>&1
check_out "D 12:30: allow kid adult.test --for 30m" 'allowed for kid until' ctl allow kid adult.test --for 30m
check_out "... adult.test answered" '^answered$' kq adult.test
set_clock "$(at $((-86400 + 12 * 3600 + 1800)))"
check_out "jump back a day (D-1 12:30): the allow is still in force (its end is a wall time)" \
	'^answered$' kq adult.test
ctl overrides | sed 's/^/#   overrides: /'
check_out "... and lasts a day longer: overrides says 1d30m left" 'adult\.test allowed until .*\(1d30m left\)' \
	ctl overrides
set_clock "$(at $((13 * 3600 + 60)))"
ms=$(within 5 NXDOMAIN adult.test)
check "jump forward past its end (D 13:01): adult.test blocked again ($ms ms)" ms_ok "$ms"

# === 4: the events file at midnight ===============================================
set_clock "$(at $((86400 - 2)))"
check_out "D 23:59:58: adult.test blocked" '^NXDOMAIN$' kq adult.test
r0=$(rotated | wc -l)
sleep 3
kq adult.test >/dev/null
for _ in $(seq 1 30); do [ "$(rotated | wc -l)" -gt "$r0" ] && break; sleep 0.1; done
rotated | sed 's/^/#   rotated: /'
check "the clock runs into D+1 00:00: the events file rotates" test "$(rotated | wc -l)" -gt "$r0"
check_out "... to a file named after D+1" "^events\\.jsonl\\.$(date -u -d @"$((D + 86400))" +%Y%m%d)-0000" \
	sh -c "ls '$T/ev' | grep '^events\\.jsonl\\.[0-9]' | tail -1"
check_out "... new events go to the new file, stamped D+1" "\"ts\":\"$(day $((D + 86400)))T00:00" \
	head -n 1 "$T/ev/events.jsonl"
# Back 5 s before midnight, and a burst: rotated by size.
set_clock "$(at $((86400 - 5)))"
r1=$(rotated | wc -l)
in_lan python3 - <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
q = b"\x05adult\x04test\x00\x00\x01\x00\x01"
for i in range(300):
    s.sendto(struct.pack(">HHHHHH", i, 0x0100, 1, 0, 0, 0) + q, ("10.77.0.1", 53))
    try: s.recv(512)
    except OSError: pass
PY
for _ in $(seq 1 30); do [ "$(rotated | wc -l)" -gt "$r1" ] && break; sleep 0.1; done
rotated | sed 's/^/#   rotated: /'
check "back to D 23:59:55, a burst of events: rotated by size" test "$(rotated | wc -l)" -gt "$r1"
r2=$(rotated | wc -l)
sleep 6
kq adult.test >/dev/null
for _ in $(seq 1 30); do [ "$(rotated | wc -l)" -gt "$r2" ] && break; sleep 0.1; done
rotated | sed 's/^/#   rotated: /'
check "the clock runs into D+1 00:00 again: the events file rotates again" \
	test "$(rotated | wc -l)" -gt "$r2"
ip netns exec "$RTR" "$TOP/$BUILD/safegatectl" -c "$T/sg.conf" verify-log >"$T/verify.out" 2>&1
vs=$?
sed 's/^/#   verify-log: /' "$T/verify.out" | head -5
check "the chain verifies, the files in name order (safegatectl verify-log: exit $vs)" test "$vs" = 0
check "every event's seq follows the one before, across the files in name order" \
	sh -c "cd '$T/ev' && cat \$(ls | grep '^events\\.jsonl\\.[0-9]' | sort) events.jsonl |
		grep -o '\"seq\":[0-9]*' | cut -d: -f2 | awk 'NR > 1 && \$1 != p + 1 { bad++ } { p = \$1 } END { exit bad > 0 }'"

# === 5 ========================================================================
check "safegated is still running" kill -0 "$SG_PID"
safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
finish
