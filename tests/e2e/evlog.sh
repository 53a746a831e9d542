#!/usr/bin/env bash
# evlog.sh - the safeguarding record end to end: a blocked query is a
# chained line; safegatectl verify-log says the chain is intact; a kill -9
# and a restart carry the chain on, and so does a line a crash cut short
# (recovered, and verified past); a hold is written and synced; the file
# rotates by size with the chain carried across files; a reload that moves
# the log carries it on too; and a confidential name (a hashed .invalid
# name) never appears in any file under the test's folder.
. "$(dirname "$0")/lib.sh"
need_root
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up

SECRET=hidden-entry.invalid	# stands for a name on a confidential list
cat >"$T/hosts" <<HOSTS
10.77.9.1 allowed.test
10.77.9.2 blocked.test
HOSTS
printf '%s\n' '# reserved names only' blocked.test >"$T/e2e.domains"
printf 'sha256:%s\n' "$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)" \
	>"$T/abuse.hashes"

# conf EVENTS: writes $T/sg.conf
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 23 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
lists = ( { category = "testcat"; files = [ "e2e.domains" ]; },
          { category = "abuse"; confidential = true; files = [ "abuse.hashes" ]; } );
block = [ "testcat", "abuse" ];
log = { events = "$1"; level = "debug"; rotate_size = 65536;
        rotate_daily = false; retention_days = 0; };
control = { socket = "$T/control.sock"; state = "$T/state"; };
# The seq arithmetic below counts the queries' own lines; the abuse-list
# indicator each hit raises is tested in blockpage.sh.
risk = { abuse = { enabled = false; }; };
CONF
}

EV=$T/log/events.jsonl
conf "$EV"
dig1() { in_lan dig +time=2 +tries=1 "$@"; }
verify() { "$TOP/$BUILD/safegatectl" -c "$T/sg.conf" verify-log "$@"; }
HEX='[0-9a-f]{64}'

# The confidential name is asked without its answer landing in a file:
# check_out would keep dig's output (with the name) in $T/last.out.
secret_blocked() {
	local out
	out=$(dig1 @10.77.0.1 "$1" A 2>&1)
	case $out in
	*NXDOMAIN*) ok "$2" ;;
	*) not_ok "$2 (no NXDOMAIN)" ;;
	esac
}

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/hosts"
wait_dns dig1 @10.77.0.1 allowed.test || { not_ok "router dnsmasq answers"; exit 1; }
safegated_start "$T/sg.conf" || { not_ok "safegated starts"; exit 1; }
ok "safegated starts"

# --- a blocked query is a chained line ------------------------------------------
check_out "a blocked query is NXDOMAIN" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test A
check_out "its line: seq 1 first, today's fields, prev 0...0 and a hash last" \
	"^\\{\"seq\":1,\"ts\":\"[0-9T:.-]+Z\",\"kind\":\"dns\",\"transport\":\"udp\",\"client\":\"10\\.77\\.0\\.2\",.*\"name\":\"blocked\\.test\",\"qtype\":\"A\",\"categories\":\\[\"testcat\"\\],\"rule\":\"blocked\\.test\",\"reason\":\"category\",\"action\":\"nxdomain\",\"prev\":\"0{64}\",\"hash\":\"$HEX\"\\}$" \
	head -1 "$EV"
check_out "the hash is the SHA-256 of the line up to ,\"hash\":\"" '^same$' \
	sh -c "l=\$(head -1 '$EV'); h=\$(printf %s \"\${l%%,\\\"hash\\\":*}\" | sha256sum | cut -d' ' -f1); case \$l in *\"\$h\"*) echo same ;; *) echo differ ;; esac"
check_out "the file is 0640" '^640$' command stat -c %a "$EV"
check_out "a second query: seq 2, prev the first's hash" '^same$' \
	sh -c "ip netns exec $LAN dig +time=2 +tries=1 @10.77.0.1 www.blocked.test AAAA >/dev/null;
	h=\$(head -1 '$EV' | grep -oE '\"hash\":\"[0-9a-f]+' | cut -d'\"' -f4);
	sed -n 2p '$EV' | grep -q \"^{\\\"seq\\\":2,.*\\\"prev\\\":\\\"\$h\\\"\" && echo same"
secret_blocked "$SECRET" "a confidential name is blocked"
check_out "its line: no name, the rule's hash, held" \
	"\"name\":null,\"qtype\":\"A\",\"categories\":\\[\"abuse\"\\],\"rule\":\"hash:$HEX\",\"list\":\"abuse\\.hashes\",\"reason\":\"confidential\",\"action\":\"nxdomain\",\"hold\":true,\"prev\"" \
	cat "$EV"
check_out "verify-log: the chain is intact" \
	'^chain intact: 3 events, seq 1\.\.3, from [0-9T:.-]+Z to [0-9T:.-]+Z$' verify
check "verify-log exits 0" verify
check_out "status: the events file and its last seq" "^events $EV\$" ctl status
check_out "status: events_seq 3" '^events_seq 3$' ctl status

# --- hold --------------------------------------------------------------------
check_out "hold: event 1, with a reason" '^event 1 held \(hold event 4\)' \
	ctl hold 1 reported to CEOP, ref 42%
check_out "the hold event is in the file, synced" \
	"^\\{\"seq\":4,\"ts\":\"[^\"]+\",\"kind\":\"hold\",\"action\":\"hold\",\"target\":1,\"reason\":\"reported to CEOP, ref 42%\",\"hold\":true,\"prev\":\"$HEX\",\"hash\":\"$HEX\"\\}$" \
	tail -1 "$EV"
check_out "hold: a seq not yet written is refused" 'no such event yet \(the last is 4\)' \
	ctl hold 99
check_out "hold: a word that is no seq is refused before asking" 'not an event.s seq' \
	ctl hold 01
check_out "verify-log counts the held events" '^2 held events' verify

# --- kill -9, restart: the chain carries on ----------------------------------------
kill -KILL "$SG_PID"; wait "$SG_PID" 2>/dev/null; SG_PID=
cp "$T/safegated.log" "$T/safegated-1.log"
safegated_start "$T/sg.conf" || { not_ok "safegated restarts after kill -9"; exit 1; }
check_out "after the restart, a blocked query" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test A
check_out "takes seq 5, chained to the hold" '^\{"seq":5,' tail -1 "$EV"
check_out "verify-log: intact across the kill" '^chain intact: 5 events, seq 1\.\.5' verify

# --- a line cut short by a crash ---------------------------------------------------
kill -KILL "$SG_PID"; wait "$SG_PID" 2>/dev/null; SG_PID=
printf '{"seq":6,"ts":"2026-01-01T00:00' >>"$EV"	# 31 bytes, no newline
check_out "verify-log names the cut line" "^$EV:6: cut short: the last line has no newline \\(31 bytes\\)" verify
check "and exits 1" sh -c "! '$TOP/$BUILD/safegatectl' -c '$T/sg.conf' verify-log >/dev/null"
cp "$T/safegated.log" "$T/safegated-2.log"
safegated_start "$T/sg.conf" || { not_ok "safegated starts on a torn file"; exit 1; }
check_out "the daemon says so, and carries on" 'last line was cut short \(31 bytes, no newline\)' \
	cat "$T/safegated.log"
check_out "a \"recovered\" event records its length, not its bytes" \
	'^\{"seq":6,"ts":"[^"]+","kind":"log","action":"recovered","length":31,"prev"' tail -1 "$EV"
check_out "a blocked query after it" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test A
check_out "verify-log: intact past the recovered line" '^chain intact: 7 events, seq 1\.\.7' verify
check_out "verify-log says a line was cut short" '^1 line cut short by a crash' verify

# --- rotation by size: the chain carries across files -----------------------------------
for i in $(seq 1 200); do
	in_lan dig +time=1 +tries=1 @10.77.0.1 "n$i.blocked.test" A >/dev/null 2>&1
done
check_out "stats: the file rotated" '^events_rotated [1-9]' ctl stats
check_out "the rotated file is named by the time" "^$EV\\.[0-9]{8}-[0-9]{6}(-[0-9]{2})?\$" \
	sh -c "ls -1 '$EV'.* | head -1"
check_out "no rotated file is over 64 KiB" '^0$' \
	sh -c "find '$T/log' -name 'events.jsonl.*' -size +64k | wc -l"
check_out "verify-log: intact through the rotated files" '^chain intact: 207 events, seq 1\.\.207' verify
check_out "the current file's first line follows the rotated one's last" '^same$' \
	sh -c "h=\$(tail -1 \"\$(ls -1 '$EV'.* | tail -1)\" | grep -oE '\"hash\":\"[0-9a-f]+' | cut -d'\"' -f4);
	head -1 '$EV' | grep -q \"\\\"prev\\\":\\\"\$h\\\"\" && echo same"
check_out "stats: no event lost or failed" '^0 0$' \
	sh -c "ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/control.sock' stats | awk '\$1 == \"events_lost\" { l = \$2 } \$1 == \"event_errors\" { e = \$2 } END { print l, e }'"

# --- a reload that moves the log: the chain carries on there --------------------------
conf "$T/log2/moved.jsonl"
check "reload with a new events path" ctl reload
check_out "a blocked query after the move" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test A
check_out "the new file starts with a \"reopened\" event at seq 208" \
	'^\{"seq":208,"ts":"[^"]+","kind":"log","action":"reopened","prev"' head -1 "$T/log2/moved.jsonl"
check_out "verify-log over the old files and the new: intact" '^chain intact: 209 events, seq 1\.\.209' \
	sh -c "'$TOP/$BUILD/safegatectl' verify-log \$(ls -1 '$EV'.* | sort) '$EV' '$T/log2/moved.jsonl'"
check_out "the old file alone: intact, and it says where it began" '^chain intact: .* seq [0-9]+\.\.207' \
	sh -c "'$TOP/$BUILD/safegatectl' verify-log '$EV'"
sed '2s/blocked/bl0cked/' "$T/log2/moved.jsonl" >"$T/tampered.jsonl"
check_out "a byte changed in a copy is named: file, line and why" "tampered\\.jsonl:2: bad hash" \
	"$TOP/$BUILD/safegatectl" verify-log "$T/tampered.jsonl"
rm -f "$T/tampered.jsonl"

secret_blocked "sub.$SECRET" "a confidential subdomain is blocked, last of all"
safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check_out "verify-log after the stop: intact" '^chain intact: 210 events' \
	sh -c "'$TOP/$BUILD/safegatectl' verify-log \$(ls -1 '$EV'.* | sort) '$EV' '$T/log2/moved.jsonl'"

# --- never a confidential name, anywhere ---------------------------------------------------
check_out "the daemon's debug log marks the confidential queries, unnamed" \
	'udp A \(confidential\) from 10\.77\.0\.2' cat "$T/safegated.log" "$T/safegated-1.log"
check_out "no file under the test's folder holds the confidential name" '^0$' \
	sh -c "grep -rlaF '$SECRET' '$T' | wc -l"
check_out "nor its first label" '^0$' sh -c "grep -rlaF 'hidden-entry' '$T' | wc -l"
check "no sanitizer report" no_sanitizer_report
finish
