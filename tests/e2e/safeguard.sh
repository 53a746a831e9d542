#!/usr/bin/env bash
# safeguard.sh - the safeguarding record's feeds (issue 6) end to end,
# through the running daemon: the seven grooming-risk indicators as
# "indicator" events, the parent's alert command, and syslog forwarding.
#
#   lan: one namespace, one address per device (dig -b picks it), every
#        device known by its address (devices: ip):
#
#   10.77.0.2  kid     child  age 12  bedtime on the test clock: roblox
#   10.77.0.3  teen    teen   age 15  telegram (18+), discord (13+)
#   10.77.0.4  young   plain  age 0   telegram: no age, no notice
#   10.77.0.5  chatter teen           anon-chat, twice
#   10.77.0.6  dohdev  teen           a DoH name, twice
#   10.77.0.7  outdev  teen           DNS to the wan resolver, twice
#   10.77.0.8  rep     teen           blocked adult names: a burst, then
#                                     attempts spaced past the gap
#   10.77.0.9  abuser  teen           the confidential (hashed) name
#   the router (127.0.0.1, no device): blocked "sync" names, a barrier
#
# Every name is reserved (.test, .invalid).  The router's dnsmasq and the
# wan's answer from hosts files and forward nothing; the syslog receivers
# are python3 listeners on the router's loopback.
#
# The first run is on the test clock (-T), a few seconds before a
# bedtime edge in the past, with the record forwarded over UDP and the
# alert command set; a second, short run forwards over TCP (RFC 6587
# octet counting).
#
# new-platform learns for first_seen_days (risk.first_seen.baseline_days,
# at least 1) from the first time the engine sees a device, and within
# one run a day can pass only by waiting a day.  What it learned is kept
# in risk.state (beside control.state here), so the test gives the first
# run a state file in which kid was first seen three days before the test
# clock: kid's first messaging app fires new-platform, while teen and
# young, new to the engine, learn in silence.  The second run loads what
# the first one saved at its stop: roblox is no longer new for kid, and
# discord is.
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { echo "not ok - python3 missing: run 'make deps'"; exit 1; }
trap cleanup EXIT
export TZ=UTC	# the daemon's schedules and date(1) in the same zone
net_up
for a in 3 4 5 6 7 8 9; do
	ip -n "$LAN" addr add 10.77.0.$a/24 dev "sgl$ID"
done
LANMAC=$(ip -n "$LAN" -br link show "sgl$ID" | awk '{ print $3 }')

SECRET=hidden-entry.invalid	# stands for a name on a confidential list
EV=$T/log/events.jsonl
mkdir -p "$T/services" "$T/alerts"

# --- names and lists ------------------------------------------------------------------
cat >"$T/rtr.hosts" <<HOSTS
10.78.0.10 allowed.test roblox.test telegram.test discord.test
10.78.0.10 chat.anonchat.test doh.test www.adult.test
HOSTS
cat >"$T/wan.hosts" <<HOSTS
10.78.0.20 allowed.test
HOSTS
list() { local f=$1; shift; printf '%s\n' '# safeguard.sh: reserved names only' "$@" >"$T/$f.domains"; }
list adult adult.test
list anon-chat anonchat.test
list doh doh.test
list sync sync.test
list services/roblox roblox.test
list services/telegram telegram.test
list services/discord discord.test
printf 'sha256:%s\n' "$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)" \
	>"$T/abuse.hashes"

# The alert command: saves its standard input, one file per alert.
cat >"$T/alert.sh" <<SH
#!/bin/sh
f=$T/alerts/\$(date +%s%N)-\$\$.json
cat >"\$f.tmp" && mv "\$f.tmp" "\$f"
SH
chmod 0755 "$T/alert.sh"

# Bedtime: a one-hour daily window whose start is a minute boundary about
# three hours ago; the test clock starts LEAD seconds before it (so the
# policy's clock is behind the wall clock, as on a router whose clock is
# yet to be set).
now=$(date +%s)
EDGE=$(((now - 10800) / 60 * 60 + 60))
BED=$(date -d @$EDGE +%H:%M)
BED_END=$(date -d @$((EDGE + 3600)) +%H:%M)
LEAD=7

# conf FILE SYSLOG_TARGET ALERT_COMMAND EVENTS
conf() {
	cat >"$1" <<CONF
queue = { numbers = [ 43 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
dhcp_leases = "";
lists = ( { category = "adult"; files = [ "adult.domains" ]; },
          { category = "anon-chat"; files = [ "anon-chat.domains" ]; },
          { category = "doh"; files = [ "doh.domains" ]; },
          { category = "sync"; files = [ "sync.domains" ]; },
          { category = "abuse"; confidential = true;
            files = [ "abuse.hashes" ]; } );
block = [ "sync", "abuse" ];
devices = ( { name = "kid"; ip = "10.77.0.2"; profile = "child"; },
            { name = "teen"; ip = "10.77.0.3"; profile = "teen"; },
            { name = "young"; ip = "10.77.0.4"; profile = "plain"; },
            { name = "chatter"; ip = "10.77.0.5"; profile = "teen"; },
            { name = "dohdev"; ip = "10.77.0.6"; profile = "teen"; },
            { name = "outdev"; ip = "10.77.0.7"; profile = "teen"; },
            { name = "rep"; ip = "10.77.0.8"; profile = "teen"; },
            { name = "abuser"; ip = "10.77.0.9"; profile = "teen"; } );
default_profile = "plain";
profiles = {
  plain = { };
  child = { age = 12; block = [ "adult" ];
            schedules = { bedtime = { when = "daily $BED-$BED_END";
                                      block = [ "adult" ]; }; }; };
  teen = { age = 15; block = [ "adult" ]; };
};
alert = { command = "$3"; interval = 10; };
risk = {
  anon_chat = { enabled = true; window = 3600; categories = [ "anon-chat" ]; };
  late_night = { enabled = true; window = 3600; };
  first_seen = { enabled = true; window = 3600; baseline_days = 1; };
  messaging = [ "roblox", "telegram", "discord" ];
  bypass = { enabled = true; window = 3600; };
  repeated = { enabled = true; window = 3600; count = 3; minutes = 1;
               categories = [ "adult" ]; };
  age = { enabled = true; window = 3600; };
  abuse = { enabled = true; window = 0; };
  bedtime = "bedtime";
};
log = { events = "$4"; level = "debug";
        syslog = { target = "$2"; facility = "local5"; }; };
control = { socket = "$T/control.sock"; state = "$T/state"; };
CONF
}

# --- helpers ----------------------------------------------------------------------------
# q ADDR NAME [ARGS...]: a device asks the router.
q() { local a=$1; shift; in_lan dig +time=2 +tries=1 -b "$a" @10.77.0.1 "$@"; }
# outq NAME [ARGS...]: outdev asks the wan's resolver, not the router.
outq() { in_lan dig +time=2 +tries=1 -b 10.77.0.7 @10.78.0.2 "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
# sleep_until MS: waits until the wall clock reaches MS (epoch ms).
sleep_until() {
	local d=$(($1 - $(ms)))
	[ "$d" -le 0 ] || sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"
}

cat >"$T/evq.py" <<'PY'
# evq.py EVENTS MODE DEVICE INDICATOR: the indicator events of a device
# ("*": any indicator): MODE count prints how many, last the last one.
import json, sys
path, mode, dev, ind = sys.argv[1:5]
hits = []
for line in open(path):
    e = json.loads(line)
    if e.get("kind") != "indicator" or e.get("device") != dev:
        continue
    if ind == "*" or e.get("indicator") == ind:
        hits.append(line.rstrip("\n"))
if mode == "count":
    print(len(hits))
elif hits:
    print(hits[-1])
PY
evn() { python3 "$T/evq.py" "$EV" count "$@"; }
evlast() { python3 "$T/evq.py" "$EV" last "$@"; }
# fires DEVICE INDICATOR N: the device has exactly N such events.
fires() { local n; n=$(evn "$1" "$2"); echo "$1 $2: $n"; [ "$n" = "$3" ]; }

# sync_ev: a blocked name asked by the router itself, then waits for its
# line in the record.  One queue, one worker and one writer: everything
# asked before it has been observed, and its indicators written, by then.
SYNC=0
sync_ev() {
	local i
	SYNC=$((SYNC + 1))
	in_rtr dig +time=2 +tries=1 @127.0.0.1 "s$SYNC.sync.test" A >/dev/null 2>&1
	for i in $(seq 1 100); do
		grep -qF "\"s$SYNC.sync.test\"" "$EV" 2>/dev/null && return 0
		sleep 0.05
	done
	echo "# sync $SYNC: its line never came"
	return 1
}

# The confidential name is asked without its answer landing in a file.
secret_hit() {
	local out
	out=$(q 10.77.0.9 "$SECRET" A 2>&1)
	case $out in
	*NXDOMAIN*) ok "$1" ;;
	*) not_ok "$1 (no NXDOMAIN)" ;;
	esac
}

# wait_files DIR N: until DIR holds N *.json files (10 s).
wait_files() {
	local i
	for i in $(seq 1 100); do
		[ "$(ls "$1"/*.json 2>/dev/null | wc -l)" -ge "$2" ] && return 0
		sleep 0.1
	done
	ls -l "$1"
	return 1
}

status_of() { ctl status | awk -v k="$1" '$1 == k { print $2 }'; }

# A TCP syslog listener in the router, as read (UDP: udp_sink, lib.sh).
cat >"$T/tcp.py" <<'PY'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(4)
f = open(sys.argv[2], "ab", buffering=0)
while True:
    c, a = s.accept()
    while True:
        d = c.recv(65536)
        if not d:
            break
        f.write(d)
    c.close()
PY
# sl.py MODE CAPTURE EVENTS PID HOST: reads what the receiver got (udp: a
# datagram a line; tcp: RFC 6587 octet counting) and says, a fact a line,
# how it compares with the record.
cat >"$T/sl.py" <<'PY'
import json, re, sys
mode, cap, evpath, pid, host = sys.argv[1:6]
raw = open(cap, "rb").read()
msgs, bad_frame = [], 0
if mode == "udp":
    msgs = [m for m in raw.split(b"\n") if m]
else:
    i = 0
    while i < len(raw):
        m = re.match(rb"([1-9][0-9]*) ", raw[i:])
        if not m:
            bad_frame += 1
            break
        n = int(m.group(1))
        body = raw[i + m.end():i + m.end() + n]
        if len(body) != n:
            bad_frame += 1
            break
        msgs.append(body)
        i += m.end() + n
hdr = re.compile(rb'^<([0-9]{1,3})>1 ([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z) (\S+) safegated ([0-9]+) (\S+) \[safegate@32473 seq="([0-9]+)" hash="([0-9a-f]{64})"\] (\{.*\})$')
def sev(line):
    if '"severity":"critical"' in line or '"hold":true' in line:
        return 2
    if '"severity":"warning"' in line:
        return 4
    if '"kind":"indicator"' in line:
        return 5
    return 6
got, bad_hdr, bad_pri, bad_host, bad_pid, bad_msgid, bad_sd = [], 0, 0, 0, 0, 0, 0
for m in msgs:
    h = hdr.match(m)
    if not h:
        bad_hdr += 1
        continue
    line = h.group(8).decode()
    e = json.loads(line)
    got.append(line)
    if int(h.group(1)) != 21 * 8 + sev(line):
        bad_pri += 1
    if h.group(3).decode() != host:
        bad_host += 1
    if h.group(4).decode() != pid:
        bad_pid += 1
    if h.group(5).decode() != e["kind"]:
        bad_msgid += 1
    if int(h.group(6)) != e["seq"] or h.group(7).decode() != e["hash"]:
        bad_sd += 1
events = [l.rstrip("\n") for l in open(evpath)]
print("messages %d" % len(msgs))
print("events %d" % len(events))
print("bad_frames %d" % bad_frame)
print("bad_headers %d" % bad_hdr)
print("bad_pri %d" % bad_pri)
print("bad_host %d" % bad_host)
print("bad_pid %d" % bad_pid)
print("bad_msgid %d" % bad_msgid)
print("bad_sd %d" % bad_sd)
print("missing %d" % len([l for l in events if l not in got]))
print("in_order %s" % ("yes" if got == events else "no"))
print("indicators %d" % len([l for l in got if '"kind":"indicator"' in l]))
print("pri_seen %s" % " ".join(sorted(set(m[1:4].split(b">")[0].decode() for m in msgs))))
PY
sl() { python3 "$T/sl.py" "$@"; }

# --- resolvers, receivers, the daemon on the test clock -----------------------------------
dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/rtr.hosts"
dnsmasq_start "$WAN" wan-dnsmasq 10.78.0.2 "$T/wan.hosts"
wait_dns q 10.77.0.2 allowed.test || { not_ok "router dnsmasq answers"; exit 1; }
wait_dns outq allowed.test || { not_ok "wan dnsmasq answers"; exit 1; }
udp_sink 5514 "$T/syslog-udp.cap" || not_ok "the UDP receiver listens"
ip netns exec "$RTR" python3 "$T/tcp.py" 5515 "$T/syslog-tcp.cap" &
echo $! >"$T/tcp.bgpid"
wait_dns sh -c "ip netns exec $RTR ss -Hlun 'sport = :5514' | grep -q 5514 &&
	ip netns exec $RTR ss -Hltn 'sport = :5515' | grep -q 5515" ||
	{ not_ok "the syslog receivers listen"; exit 1; }

conf "$T/sg.conf" udp://127.0.0.1:5514 "$T/alert.sh" "$EV"
check "safegated -n accepts the alert, risk and log.syslog keys" \
	"$TOP/$BUILD/safegated" -n -c "$T/sg.conf"
printf 'safegate-risk-state 1\ndevice kid %s\nend 1\n' $((EDGE - 3 * 86400)) \
	>"$T/risk.state"
echo "# bedtime daily $BED-$BED_END UTC; test clock from @$((EDGE - LEAD))"
safegated_start "$T/sg.conf" -T @$((EDGE - LEAD)) ||
	{ not_ok "safegated starts on the test clock"; exit 1; }
ok "safegated starts on the test clock, ${LEAD} s before bedtime"
OFF=$(status_of test_clock)
OFF=${OFF:-0}

# === late-night-contact, first half: before bedtime ======================================
check_out "kid gets roblox.test before bedtime" '^10\.78\.0\.10$' q 10.77.0.2 roblox.test +short
BEFORE=$(($(ms) / 1000 + OFF))
check "... and that was before the edge on the test clock ($((EDGE - BEFORE)) s to go)" \
	test "$BEFORE" -lt "$EDGE"

# === abuse-list and the alert command =====================================================
secret_hit "abuser: the confidential name is NXDOMAIN"
T_ALERT1=$(ms)
check "the alert command ran (within 10 s)" wait_files "$T/alerts" 1
A1=$(ls "$T"/alerts/*.json 2>/dev/null | head -1)
A1=${A1:-/nonexistent}
sync_ev
check "abuse-list fires for abuser" fires abuser abuse-list 1
check_out "its event: critical, held, the category, no name" \
	'"kind":"indicator","client":"10\.77\.0\.9","mac":"[0-9a-f:]{17}","device":"abuser","profile":"teen","name":"","categories":\["abuse"\],"rule":"","indicator":"abuse-list","severity":"critical","hold":true' \
	evlast abuser abuse-list
aj() { python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$A1" "$1"; }
check_out "alert JSON: indicator abuse-list, severity critical" '^abuse-list critical$' \
	aj 'd["indicator"] + " " + d["severity"]'
check_out "alert JSON: the device, its address, MAC and profile" \
	"^abuser 10\\.77\\.0\\.9 $LANMAC teen\$" aj '" ".join((d["device"], d["client"], d["mac"], d["profile"]))'
check_out "alert JSON: the title and what to do" '^A site on a child sexual abuse list \| .*CEOP' \
	aj 'd["title"] + " | " + d["what_to_do"]'
check_out "alert JSON: time is the hit's (test clock), none held back yet" '^ok 0$' \
	aj "('ok' if abs(d['time'] - ($(date +%s) + $OFF)) < 30 else 'time %d' % d['time']) + ' ' + str(d['held_back'])"
check_out "alert JSON: exactly the documented keys" \
	'^client device held_back indicator mac profile severity time title what_to_do$' \
	aj '" ".join(sorted(d))'
check_out "alert JSON: no confidential name, nor its label, nor a hash" '^0$' \
	sh -c "grep -cE 'hidden-entry|\\.invalid|hash|sha256' '$A1'"
secret_hit "abuser: a second hit inside the alert interval"
sync_ev
check "abuse-list (window 0) fires again" fires abuser abuse-list 2
check_out "status: alerts_run 1, alerts_held 1, alerts_failed 0" '^1 1 0$' \
	sh -c "ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/control.sock' status |
	awk '\$1 == \"alerts_run\" { r = \$2 } \$1 == \"alerts_held\" { h = \$2 } \$1 == \"alerts_failed\" { f = \$2 } END { print r, h, f }'"
check_out "the rate limit ran no second command" '^1$' sh -c "ls '$T'/alerts/*.json | wc -l"

# === repeated-adult: a burst is one attempt ===============================================
for n in a b c; do q 10.77.0.8 "$n.adult.test" A >/dev/null 2>&1; done
T_REP=$(ms)
sync_ev
check "repeated-adult: three blocks within a second are one attempt, no fire" \
	fires rep repeated-adult 0
check "a blocked non-confidential name raises no abuse-list" fires rep abuse-list 0

# === anon-chat ==============================================================================
check_out "chatter gets chat.anonchat.test" '^10\.78\.0\.10$' q 10.77.0.5 chat.anonchat.test +short
sync_ev
check "anon-chat fires for chatter" fires chatter anon-chat 1
check_out "its event: warning, category anon-chat, the name" \
	'"device":"chatter","profile":"teen","name":"chat\.anonchat\.test","categories":\["anon-chat"\],"rule":"","indicator":"anon-chat","severity":"warning"' \
	evlast chatter anon-chat
q 10.77.0.5 chat.anonchat.test A >/dev/null 2>&1
q 10.77.0.5 allowed.test A >/dev/null 2>&1
sync_ev
check "window: a second anon-chat name inside it does not fire again" fires chatter anon-chat 1
check "an unwatched name raises nothing for chatter" fires chatter '*' 1

# === bypass-attempt: DoH, and DNS to an outside resolver =====================================
check_out "dohdev gets doh.test (its profile allows DoH)" '^10\.78\.0\.10$' q 10.77.0.6 doh.test +short
check_out "outdev asks the wan resolver directly" '^10\.78\.0\.20$' outq allowed.test +short
sync_ev
check "bypass-attempt fires for dohdev" fires dohdev bypass-attempt 1
check_out "its event: warning, category doh" \
	'"device":"dohdev",.*"name":"doh\.test","categories":\["doh"\],.*"indicator":"bypass-attempt","severity":"warning"' \
	evlast dohdev bypass-attempt
check "bypass-attempt fires for outdev" fires outdev bypass-attempt 1
check_out "its event: no category (outside DNS), the name asked" \
	'"device":"outdev",.*"name":"allowed\.test","categories":\[\],.*"indicator":"bypass-attempt","severity":"warning"' \
	evlast outdev bypass-attempt
q 10.77.0.6 www.doh.test A >/dev/null 2>&1
outq allowed.test A >/dev/null 2>&1
sync_ev
check "window: a second DoH name does not fire again" fires dohdev bypass-attempt 1
check "window: a second outside query does not fire again" fires outdev bypass-attempt 1

# === under-age-platform =======================================================================
check_out "teen (15) gets discord.test (13+)" '^10\.78\.0\.10$' q 10.77.0.3 discord.test +short
sync_ev
check "discord (13+) at 15: no under-age-platform" fires teen under-age-platform 0
check_out "teen gets telegram.test (18+)" '^10\.78\.0\.10$' q 10.77.0.3 telegram.test +short
check_out "young (profile age 0) gets telegram.test" '^10\.78\.0\.10$' q 10.77.0.4 telegram.test +short
sync_ev
check "telegram (18+) at 15: under-age-platform fires for teen" fires teen under-age-platform 1
check_out "its event: notice, category telegram" \
	'"device":"teen","profile":"teen","name":"telegram\.test","categories":\["telegram"\],.*"indicator":"under-age-platform","severity":"notice"' \
	evlast teen under-age-platform
check "a profile without an age: no under-age-platform for young" fires young under-age-platform 0
q 10.77.0.3 www.telegram.test A >/dev/null 2>&1
sync_ev
check "window: telegram again does not fire again" fires teen under-age-platform 1
check "teen: no bypass-attempt (it only asked the router)" fires teen bypass-attempt 0

# === repeated-adult: attempts spaced past RISK_ATTEMPT_GAP (2 s) ===========================
sleep_until $((T_REP + 2200))
q 10.77.0.8 d.adult.test A >/dev/null 2>&1
T_REP=$(ms)
sync_ev
check "repeated-adult: the second attempt does not fire (count 3)" fires rep repeated-adult 0

# === late-night-contact, second half: past the edge ========================================
sleep_until $(((EDGE - OFF) * 1000 + 300))
check_out "kid gets roblox.test at bedtime (the schedule blocks adult only)" '^10\.78\.0\.10$' \
	q 10.77.0.2 roblox.test +short
sync_ev
check "late-night-contact fires for kid at bedtime, not before" fires kid late-night-contact 1
check_out "its event: warning, category roblox, at the test clock's time" \
	"\"ts\":\"$(date -d @$EDGE +%Y-%m-%dT%H:%M).*\"device\":\"kid\",\"profile\":\"child\",\"name\":\"roblox\\.test\",\"categories\":\\[\"roblox\"\\],.*\"indicator\":\"late-night-contact\",\"severity\":\"warning\"" \
	evlast kid late-night-contact
check "roblox (no minimum age): no under-age-platform for kid (12)" fires kid under-age-platform 0
q 10.77.0.2 www.roblox.test A >/dev/null 2>&1
sync_ev
check "window: roblox again at bedtime does not fire again" fires kid late-night-contact 1

# === repeated-adult: the third attempt fires, the fourth does not ===========================
sleep_until $((T_REP + 2200))
q 10.77.0.8 e.adult.test A >/dev/null 2>&1
T_REP=$(ms)
sync_ev
check "repeated-adult fires on the third attempt within the minute" fires rep repeated-adult 1
check_out "its event: warning, category adult, blocked" \
	'"device":"rep",.*"name":"e\.adult\.test","categories":\["adult"\],.*"indicator":"repeated-adult","severity":"warning"' \
	evlast rep repeated-adult
sleep_until $((T_REP + 2200))
q 10.77.0.8 f.adult.test A >/dev/null 2>&1
sync_ev
check "window: a fourth attempt does not fire again" fires rep repeated-adult 1

# === new-platform (see the top) =============================================================
check "new-platform: kid, past its learning, is told of roblox once" fires kid new-platform 1
check_out "its event: notice, category roblox" \
	'"device":"kid",.*"name":"roblox\.test","categories":\["roblox"\],.*"indicator":"new-platform","severity":"notice"' \
	evlast kid new-platform
for d in teen young; do
	check "new-platform: $d used messaging apps while learning, no notice" \
		fires "$d" new-platform 0
done

# === the alert after the interval says how many were held back ==============================
sleep_until $((T_ALERT1 + 10500))
secret_hit "abuser: a third hit, past the alert interval"
check "the alert command ran again (within 10 s)" wait_files "$T/alerts" 2
A2=$(ls "$T"/alerts/*.json 2>/dev/null | sed -n 2p)
A2=${A2:-/nonexistent}
check_out "alert JSON: held_back 1" '^1$' \
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["held_back"])' "$A2"
sync_ev
check "abuse-list fired three times" fires abuser abuse-list 3
check_out "status: alerts_run 2, alerts_held 1, alerts_failed 0" '^2 1 0$' \
	sh -c "ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/control.sock' status |
	awk '\$1 == \"alerts_run\" { r = \$2 } \$1 == \"alerts_held\" { h = \$2 } \$1 == \"alerts_failed\" { f = \$2 } END { print r, h, f }'"
check_not_out "the daemon killed no alert command" 'alert .*(killed|exited)' cat "$T/safegated.log"
NIND=$(grep -c '"kind":"indicator"' "$EV")
check_out "status: indicators_fired counts every indicator event ($NIND)" "^indicators_fired $NIND\$" ctl status
check_out "status: syslog_dropped 0" '^syslog_dropped 0$' ctl status

PID1=$SG_PID
safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check_out "it saved what the indicators learned (risk.state, 0600)" '^600 ' \
	command stat -c '%a %s' "$T/risk.state"
check_out "risk.state: devices and categories, never a site" 'device kid [0-9]+ .*cat roblox ' \
	sh -c "tr '\n' ' ' <'$T/risk.state'"
check_not_out "risk.state holds no name that was asked" '\.test|\.invalid|hidden' cat "$T/risk.state"
# safegated_stop waited for the exit: syslogfwd_stop() has flushed, and
# UDP on loopback loses nothing; give the listener a moment to write.
wait_dns sh -c "[ \$(wc -l <'$T/syslog-udp.cap') -ge \$(wc -l <'$EV') ]"

# === syslog over UDP ==========================================================================
sl udp "$T/syslog-udp.cap" "$EV" "$PID1" "$(hostname)" >"$T/sl-udp.out" 2>&1
slc() { cat "$T/sl-$1.out"; }
check_out "udp: one datagram per event line" \
	"^messages $(wc -l <"$EV")\$" slc udp
check_out "udp: every line is <PRI>1 TIMESTAMP HOST safegated PID KIND [safegate@32473 seq hash] JSON" \
	'^bad_headers 0$' slc udp
check_out "udp: PRI is local5 and the event's severity" '^bad_pri 0$' slc udp
check_out "udp: PRI 170 (critical), 172 (warning), 173 (notice), 174 (info) all seen" \
	'^pri_seen 170 172 173 174$' slc udp
check_out "udp: HOST is the router's hostname" '^bad_host 0$' slc udp
check_out "udp: PROCID is the daemon's pid" '^bad_pid 0$' slc udp
check_out "udp: MSGID is the event's kind" '^bad_msgid 0$' slc udp
check_out "udp: SD seq and hash are the record's" '^bad_sd 0$' slc udp
check_out "udp: every event line arrived, as written" '^missing 0$' slc udp
check_out "udp: in the record's order" '^in_order yes$' slc udp
check_out "udp: the indicator lines among them" "^indicators $NIND\$" slc udp
check_not_out "udp: no confidential name received" 'hidden-entry|\.invalid' cat "$T/syslog-udp.cap"

# === syslog over TCP (a short second run, on the wall clock) ================================
EV2=$T/log2/events.jsonl
conf "$T/sg2.conf" tcp://127.0.0.1:5515 "" "$EV2"
safegated_start "$T/sg2.conf" || { not_ok "safegated starts with a tcp target"; exit 1; }
ok "safegated starts with a tcp syslog target"
secret_hit "abuser: the confidential name, once more"
q 10.77.0.2 roblox.test A >/dev/null 2>&1
q 10.77.0.2 discord.test A >/dev/null 2>&1
q 10.77.0.8 g.adult.test A >/dev/null 2>&1
q 10.77.0.5 chat.anonchat.test A >/dev/null 2>&1
EV=$EV2 sync_ev
check_out "status: syslog_sent counts the lines (within 5 s)" '^ok$' \
	sh -c "for i in \$(seq 1 50); do
		s=\$(ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/control.sock' status | awk '\$1 == \"syslog_sent\" { print \$2 }');
		[ \"\$s\" = \$(wc -l <'$EV2') ] && { echo ok; exit; }; sleep 0.1; done; echo \"sent \$s\""

# === a reload: a new alert command and syslog target, the learning kept =====================
# Every line so far went over TCP; from the reload on they go to a second
# UDP receiver, and alerts to a second command.
K=$(wc -l <"$EV2")
head -n "$K" "$EV2" >"$T/ev2-before"
udp_sink 5516 "$T/syslog-udp2.cap" || not_ok "the second UDP receiver listens"
mkdir -p "$T/alerts2"
sed "s|$T/alerts/|$T/alerts2/|" "$T/alert.sh" >"$T/alert2.sh"
chmod 0755 "$T/alert2.sh"
conf "$T/sg2.conf" udp://127.0.0.1:5516 "$T/alert2.sh" "$EV2"
check_out "reload with an alert command and a new syslog target" '^generation ' ctl reload
q 10.77.0.5 chat.anonchat.test A >/dev/null 2>&1
q 10.77.0.6 doh.test A >/dev/null 2>&1
secret_hit "abuser: the confidential name, after the reload"
check "the new alert command ran (within 10 s)" wait_files "$T/alerts2" 1
EV=$EV2 sync_ev
EV1=$EV EV=$EV2
check "the learning outlived the restart: roblox is not new for kid, discord is" \
	fires kid new-platform 1
check_out "... the one new-platform of the second run names discord" '"categories":\["discord"\]' \
	evlast kid new-platform
check "anon-chat's window outlived the reload: chatter is not told again" \
	fires chatter anon-chat 1
check "the reconfigured engine still fires: dohdev's bypass-attempt" \
	fires dohdev bypass-attempt 1
check "abuse-list (window 0) fired before and after the reload" fires abuser abuse-list 2
EV=$EV1
check_out "status: alerts_run 1 (the new command), syslog_dropped 0" '^1 0$' \
	sh -c "ip netns exec $RTR '$TOP/$BUILD/safegatectl' -s '$T/control.sock' status |
	awk '\$1 == \"alerts_run\" { r = \$2 } \$1 == \"syslog_dropped\" { d = \$2 } END { print r, d }'"
check_out "no alert went to the first command's folder (still run 1's two)" '^2$' \
	sh -c "ls '$T/alerts' | wc -l"

PID2=$SG_PID
safegated_stop
check "the second daemon stopped cleanly" test "$SG_STATUS" = 0
tail -n +$((K + 1)) "$EV2" >"$T/ev2-after"
wait_dns sh -c "[ \$(grep -o '<1[0-9][0-9]>1 ' '$T/syslog-tcp.cap' | wc -l) -ge $K ]"
wait_dns sh -c "[ \$(wc -l <'$T/syslog-udp2.cap') -ge \$(wc -l <'$T/ev2-after') ]"
sl tcp "$T/syslog-tcp.cap" "$T/ev2-before" "$PID2" "$(hostname)" >"$T/sl-tcp.out" 2>&1
sl udp "$T/syslog-udp2.cap" "$T/ev2-after" "$PID2" "$(hostname)" >"$T/sl-udp2.out" 2>&1
check_out "after the reload: every line went to the new target, in order" \
	"^messages $(wc -l <"$T/ev2-after") missing 0 in_order yes \$" \
	sh -c "grep -E '^(messages|missing|in_order) ' '$T/sl-udp2.out' | tr '\n' ' '"
check_out "after the reload: RFC 5424 headers as before" '^bad_headers 0 bad_pri 0 $' \
	sh -c "grep -E '^bad_(headers|pri) ' '$T/sl-udp2.out' | tr '\n' ' '"
check_out "tcp: octet-counted frames, each whole" '^bad_frames 0$' slc tcp
check_out "tcp: one message per event line before the reload, none after" "^messages $K\$" slc tcp
check_out "tcp: RFC 5424 headers, PRI, HOST, PROCID, MSGID, SD" \
	'^bad_headers 0 bad_pri 0 bad_host 0 bad_pid 0 bad_msgid 0 bad_sd 0 $' \
	sh -c "grep -E '^bad_(headers|pri|host|pid|msgid|sd) ' '$T/sl-tcp.out' | tr '\n' ' '"
check_out "tcp: every event line arrived, in order" '^missing 0 in_order yes $' \
	sh -c "grep -E '^(missing|in_order) ' '$T/sl-tcp.out' | tr '\n' ' '"
check_out "tcp: the indicators among them (abuse-list, anon-chat, kid's discord: new and under age)" \
	'^indicators 4$' slc tcp
check_not_out "tcp: no confidential name received" 'hidden-entry|\.invalid' cat "$T/syslog-tcp.cap"

# === never a confidential name, anywhere ======================================================
check_out "no file under the test's folder holds the confidential name" '^0$' \
	sh -c "grep -rlaF '$SECRET' '$T' | wc -l"
check_out "nor its first label" '^0$' sh -c "grep -rlaF 'hidden-entry' '$T' | wc -l"
check "no sanitizer report" no_sanitizer_report
finish
