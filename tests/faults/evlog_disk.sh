#!/usr/bin/env bash
# evlog_disk.sh - the event log's disk full, then read-only: the packet path
# keeps going, the events are held and written when the disk takes them
# again, what could not be held is counted, and the chain shows the gap.
#
# The events file is on a small tmpfs of the test's own (4 MiB); a filler
# file takes all the room left, and removing it gives it back.
#
#   short outage  the disk is full while 20 blocked queries are asked: each
#                 is answered NXDOMAIN; the file ends with a whole line and
#                 verifies; then, room again, the 20 events are written, in
#                 the order asked, and nothing is lost (no "lost" event).
#   long flood    the disk is full while dnsperf asks FLOOD (4000) blocked
#                 names, long ones, in order: every one is answered; the
#                 writer's queue (1 MiB) holds the first ones and loses the
#                 rest; room again: the held events are written in order,
#                 then a "lost" event whose count is the rest, which is
#                 also what `safegatectl stats` says (events_lost); held +
#                 lost = FLOOD, and the chain verifies.
#   read-only     a reload moves the log to an ext4 file system (a loop
#                 device, errors=remount-ro, mounted in the daemon's own
#                 mount namespace: ip netns exec gave it one); an ext4
#                 error (trigger_fs_error) makes it refuse writes (EROFS;
#                 EIO on older kernels); 10 queries are answered; the
#                 daemon lets go of the file, so it can be unmounted,
#                 checked (e2fsck) and mounted again; it then opens it
#                 anew and writes the held events, in order; the chain
#                 verifies across both files.  While it is unmounted
#                 (longer than the writer's longest wait) nothing is
#                 written in the folder under it.  (Skipped without loop
#                 devices or ext4's trigger_fs_error.)
#
# `mount -o remount,ro` cannot stand in for the read-only case: the kernel
# refuses it (EBUSY) while a file on it is open for writing, which the
# events file always is.
#
# When `safegatectl status` and `stats` say it (events_refusing,
# events_held, events_outages, events_write_errors), they are checked too.
#
# Printed: events sent, written while the disk refused, held, lost.
. "$(dirname "$0")/../e2e/lib.sh"
need_root
command -v dnsperf >/dev/null || { echo "not ok - dnsperf missing: run 'make deps'"; exit 1; }
MNT=$T/disk
RO=$T/rodisk
LOOP=
FLOOD=${FLOOD:-4000}

teardown() {
	safegated_stop		# its mount namespace goes with it
	umount "$MNT" 2>/dev/null
	if [ -n "$LOOP" ]; then losetup -d "$LOOP" 2>/dev/null; fi
}
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; teardown; cleanup' EXIT
net_up
# Should a user safegate exist (tests/e2e/priv.sh makes one while it
# runs), the daemon becomes it: it must read the config at a reload, and
# open the events file anew after EROFS, as that user.
chmod 0755 "$T"
mkdir -p "$MNT" "$RO"
chmod 0777 "$RO"	# the folder under the mount: the daemon could write there
mount -t tmpfs -o size=4m,mode=0777 sg-evdisk "$MNT" || { not_ok "mount a tmpfs"; exit 1; }

cat >"$T/hosts" <<HOSTS
10.77.9.1 allowed.test
HOSTS
printf '%s\n' '# reserved names only' blocked.test >"$T/e2e.domains"

# conf EVENTS: $T/sg.conf, one queue (one worker: events in the order
# asked), no indicators (their observations would share the queue).
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 27 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
lists = ( { category = "testcat"; files = [ "e2e.domains" ]; } );
block = [ "testcat" ];
log = { events = "$1"; level = "debug"; rotate_size = 0;
        rotate_daily = false; retention_days = 0; };
control = { socket = "$T/control.sock"; state = "$T/state"; };
risk = { anon_chat = { enabled = false; }; late_night = { enabled = false; };
         first_seen = { enabled = false; }; bypass = { enabled = false; };
         repeated = { enabled = false; }; age = { enabled = false; };
         abuse = { enabled = false; }; };
CONF
}

EV=$MNT/events.jsonl
conf "$EV"
dig1() { in_lan dig +time=2 +tries=1 "$@"; }
# In the daemon's mount namespace (where the ext4 file system is).
in_sg() { nsenter -t "$SG_PID" -m "$@"; }
verify() { in_sg "$TOP/$BUILD/safegatectl" verify-log "$@"; }
fill() { cat /dev/zero >"$MNT/filler" 2>/dev/null; }
unfill() { rm -f "$MNT/filler"; }
alive() { kill -0 "$SG_PID"; }
# The names of prefix P in FILE's dns events, in file order, numbers only.
names() { in_sg grep -o "\"name\":\"$1[0-9]*" "$2" | sed "s/.*\"$1//"; }
# Whether FILE ends with a newline (a whole line).
whole() { [ "$(in_sg tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" = 0a ]; }
# wait_until CMD...: up to 15 s.
wait_until() {
	local i
	for i in $(seq 1 150); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	return 1
}
# ask P N [FROM]: asks PFROM.blocked.test .. P(FROM+N-1).blocked.test (FROM:
# 1); prints how many were answered NXDOMAIN.
ask() {
	local i n=0
	for i in $(seq "${3:-1}" $((${3:-1} + $2 - 1))); do
		if dig1 @10.77.0.1 "$1$i.blocked.test" A | grep -q 'status: NXDOMAIN'; then
			n=$((n + 1))
		fi
	done
	echo "$n"
}
# lost_in FILE: the sum of FILE's "lost" counts.
lost_in() { in_sg grep -o '"action":"lost","count":[0-9]*' "$1" | awk -F: '{ s += $3 } END { print s + 0 }'; }
# count_is P N FILE: FILE holds N events of P's names.
count_is() { [ "$(names "$1" "$3" | wc -l)" -eq "$2" ]; }
# in_order P N FILE: P's numbers in FILE are 1..N exactly.
in_order() { [ "$(names "$1" "$3" | tr '\n' ' ')" = "$(seq -s ' ' 1 "$2") " ]; }

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/hosts"
wait_dns dig1 @10.77.0.1 allowed.test || { not_ok "router dnsmasq answers"; exit 1; }
safegated_start "$T/sg.conf" || { not_ok "safegated starts"; exit 1; }
ok "safegated starts, the events file on a 4 MiB tmpfs"

check_out "3 blocked queries are answered" '^3$' ask a 3
check_out "verify-log: intact" '^chain intact: 3 events, seq 1\.\.3,' verify "$EV"

# --- a short outage: held, then written, nothing lost -------------------------------
fill
check "the disk is full: 4 KiB more are refused" \
	sh -c "! head -c 4096 /dev/zero >>'$MNT/filler' 2>/dev/null"
answered=$(ask s 20)
check_out "20 blocked queries, the disk full: all answered NXDOMAIN" '^20$' echo "$answered"
check "the daemon is alive" alive
check_out "it says the disk refuses, and that events wait" \
	'events .*: write: No space left on device: events wait in the queue' cat "$T/safegated.log"
check "the file ends with a whole line" whole "$EV"
check_out "verify-log while the disk is full: intact" '^chain intact: ' verify "$EV"
during=$(names s "$EV" | wc -l)
COUNTERS=$(stat events_outages)
if [ -n "$COUNTERS" ]; then
	check_out "status: the file refuses, events are held" \
		'^events_refusing No space left on device \(for [0-9]+ s; [0-9]+ events held\)$' ctl status
	check_out "stats: an outage, and write errors" '^1 [1-9]' \
		sh -c "echo $(stat events_outages) $(stat events_write_errors)"
else
	echo "ok - status and stats do not say it (no events_outages in stats) # SKIP"
fi
unfill
check "room again: the 20 events are written" wait_until count_is s 20 "$EV"
check "in the order asked" in_order s 20 "$EV"
check_out "it says the disk takes writes again" 'takes writes again, after' cat "$T/safegated.log"
check_not_out "nothing was lost: no \"lost\" event" '"action":"lost"' cat "$EV"
check_out "verify-log: intact, 23 events" '^chain intact: 23 events, seq 1\.\.23,' verify "$EV"
if [ -n "$COUNTERS" ]; then
	check_not_out "status: no longer refusing" '^events_refusing' ctl status
	check_out "stats: nothing held" '^0$' stat events_held
fi
after=$(names s "$EV" | wc -l)
echo "# short outage: 20 sent, $answered answered; $during written while the disk was full, $((after - during)) held and written after; $(lost_in "$EV") lost"

# --- a long flood: the queue holds what it can, the rest is counted ------------------
lost0=$(stat events_lost)
written0=$(stat events_written)
pad=$(printf 'x%.0s' $(seq 1 60))
for i in $(seq 1 "$FLOOD"); do
	echo "f$i.$pad.$pad.blocked.test A"
done >"$T/flood.q"
fill
in_lan dnsperf -s 10.77.0.1 -a 10.77.0.2 -d "$T/flood.q" -n 1 -c 1 -T 1 \
	-q 64 -Q 4000 -t 3 >"$T/perf.out" 2>&1
check_out "the flood, the disk full: dnsperf lost no query" 'Queries lost: +0 ' cat "$T/perf.out"
check_out "every one answered NXDOMAIN" "NXDOMAIN $FLOOD \\(100" cat "$T/perf.out"
check "the daemon is alive" alive
check "the file ends with a whole line" whole "$EV"
check_out "verify-log during the flood: intact" '^chain intact: ' verify "$EV"
check_out "the daemon said the queue was full" 'the writer.s queue is full' cat "$T/safegated.log"
fearly=$(names f "$EV" | wc -l)	# fitted before the disk refused
if [ -n "$COUNTERS" ]; then
	sleep 0.5	# held is counted at each try
	fheld=$(stat events_held)
	check_out "stats: events held, the queue full" '^[1-9][0-9]* full$' \
		sh -c "echo $fheld \$( [ $(stat events_queued_bytes) -gt $(( $(stat events_queue_bytes) - 2048 )) ] && echo full)"
	echo "# during the flood: events_held $fheld, events_queued_bytes $(stat events_queued_bytes) of $(stat events_queue_bytes)"
fi
unfill
check "room again: a \"lost\" event follows the held events" \
	wait_until grep -q '"action":"lost"' "$EV"
lost=$(lost_in "$EV")
held=$(names f "$EV" | wc -l)
check_out "the flood lost some (the queue holds only so much)" '^[1-9]' echo "$lost"
check_out "held + lost = $FLOOD" "^$FLOOD\$" echo $((held + lost))
check_out "events_lost says the same" "^$lost\$" echo $(( $(stat events_lost) - lost0 ))
check "the held events are the first ones asked, in order" in_order f "$held" "$EV"
check_out "the \"lost\" event comes after them, last" '"action":"lost","count":' tail -1 "$EV"
check_out "verify-log counts the lost" "^$lost events lost before writing" verify "$EV"
check_out "verify-log: chain intact" '^chain intact: ' verify "$EV"
if [ -n "$COUNTERS" ]; then
	check_out "events_held was what was written after" "^$((held - fearly))\$" echo "$fheld"
fi
echo "# long flood: $FLOOD sent, $(grep -Eo 'NXDOMAIN [0-9]+' "$T/perf.out" | cut -d' ' -f2) answered; $fearly written while the disk was full, $((held - fearly)) held and written after, $lost lost (events_written +$(( $(stat events_written) - written0 )))"

# --- read-only: ext4 remounted read-only by an error ---------------------------------
ro_skip=
if ! LOOP=$(losetup -f --show "$(truncate -s 16M "$T/ro.img" && mkfs.ext4 -q -F "$T/ro.img" && echo "$T/ro.img")" 2>/dev/null) ||
	[ ! -w "/sys/fs/ext4" ]; then
	ro_skip="no loop device"
	LOOP=
elif ! in_sg mount -t ext4 -o errors=remount-ro "$LOOP" "$RO" || ! in_sg chmod 0777 "$RO"; then
	ro_skip="cannot mount ext4"
elif [ ! -e "/sys/fs/ext4/${LOOP#/dev/}/trigger_fs_error" ]; then
	ro_skip="no trigger_fs_error"
fi
if [ -n "$ro_skip" ]; then
	echo "ok - read-only case # SKIP $ro_skip"
else
	EV2=$RO/events.jsonl
	conf "$EV2"
	check "reload: the log moves to the ext4 file system" ctl reload
	check_out "3 blocked queries there" '^3$' ask r 3
	check "they are in the file" wait_until count_is r 3 "$EV2"
	in_sg sync -f "$EV2"
	echo 1 >"/sys/fs/ext4/${LOOP#/dev/}/trigger_fs_error"
	answered=$(ask r 10 4)
	check_out "10 blocked queries, the file system broken: all answered" '^10$' echo "$answered"
	during=$(names r "$EV2" | wc -l)
	check "the daemon is alive" alive
	check_out "it says the file system refuses" \
		"events $EV2: (write|fdatasync): (Read-only file system|Input/output error): events wait" \
		cat "$T/safegated.log"
	err=$(grep -oE "events $EV2: (write|fdatasync): (Read-only file system|Input/output error)" "$T/safegated.log" | head -1 | sed 's/.*: //')
	check "it has let go of the file" sh -c "! ls -l /proc/$SG_PID/fd | grep -qF '$EV2'"
	check "so the file system can be unmounted" in_sg umount "$RO"
	# Unmounted for longer than the writer's longest wait (5 s): it
	# tries PATH again meanwhile, and must not write in the folder the
	# file system was mounted on (that would be hidden by the mount).
	sleep 5.5
	check "nothing is written in the folder under it meanwhile" \
		in_sg test ! -e "$EV2"
	check_out "checked" '^[01]$' sh -c "e2fsck -fy '$LOOP' >/dev/null 2>&1; echo \$?"
	check "and mounted again" in_sg mount -t ext4 "$LOOP" "$RO"
	check "the daemon opens it anew and writes the 10 held events" \
		wait_until count_is r 13 "$EV2"
	check "in the order asked" in_order r 13 "$EV2"
	check_out "verify-log across both files: intact" '^chain intact: ' verify "$EV" "$EV2"
	check_not_out "no \"lost\" event there" '"action":"lost"' in_sg cat "$EV2"
	after=$(names r "$EV2" | wc -l)
	echo "# read-only (${err:-no error seen}): 10 sent, $answered answered; $((during - 3)) written while it refused, $((after - during)) held and written after the remount; $(lost_in "$EV2") lost"
fi

if [ -n "$COUNTERS" ]; then
	echo "# counters: events_outages $(stat events_outages), events_write_errors $(stat events_write_errors), events_lost $(stat events_lost), event_errors $(stat event_errors), events_observe_lost $(stat events_observe_lost)"
fi
safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
finish
