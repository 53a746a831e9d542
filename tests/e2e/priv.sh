#!/usr/bin/env bash
# priv.sh - safegated started as root gives its privileges up (issue 7):
# once its queues, raw sockets and control socket are open it becomes its
# user, keeps CAP_NET_ADMIN and CAP_NET_RAW only, and every thread runs
# under seccomp filters (priv.h):
#
#   thread          uid    CapEff/Prm    CapBnd   filters
#   main            user   0x3000        0x3000   1 (base)
#   sg-queueN       user   0x3000        0x3000   2 (base + worker)
#   sg-blockpage    user   0             0x3000   2 (base + blockpage)
#   sg-safehosts    user   0x2000 (raw)  0x3000   1 (base)
#   sg-aux          user   0             0x3000   1 (base)
#
# (the block page binds port 80 with CAP_NET_BIND_SERVICE, then lets it go;
# the safe-search resolver keeps what SO_MARK needs, CAP_NET_RAW since
# Linux 5.17, CAP_NET_ADMIN before).  A reload's new threads are started
# the same way: after it, no thread but main has main's name.
#
# read from /proc/PID/task/*/status.  It must still filter, serve the
# block page, forward to syslog, write its events and state in folders it
# made for the user, run the alert command (with no capability, under the
# base filter), reload with the firewall tools re-run, and take its rules
# down and its socket away as that user.  The kernel logs no system call
# refused to it meanwhile.  With -U it changes nothing.
#
# That a call outside a filter is refused, and one inside allowed, is
# shown by tests/unit/test_priv.c, which loads the same filters.
#
# The user is this run's own, made with useradd --system and removed at
# the end, and given with -u: the default user "safegate" is neither made
# nor removed, so that no other test (whose files only root may read) is
# run as it, even one running at the same time.  (That the default is
# "safegate" is PRIV_USER; -u takes the same path.)
. "$(dirname "$0")/lib.sh"
need_root
command -v useradd >/dev/null || { echo "not ok - useradd missing"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl missing: run 'make deps'"; exit 1; }
command -v python3 >/dev/null || { echo "not ok - python3 missing: run 'make deps'"; exit 1; }

SGU=sg-priv-$ID
priv_cleanup() {
	cleanup
	userdel "$SGU" 2>/dev/null
	getent group "$SGU" >/dev/null && groupdel "$SGU" 2>/dev/null
	return 0
}
trap priv_cleanup EXIT
useradd --system --user-group --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin "$SGU" ||
	{ echo "not ok - useradd --system $SGU"; exit 1; }
U=$(id -u "$SGU")
G=$(id -g "$SGU")
net_up

SECRET=hidden-entry.invalid	# stands for a name on a confidential list
# The daemon reads its config and lists at every reload, as its user.
chmod 0755 "$T"
mkdir -m 0777 "$T/out"
cat >"$T/rtr.hosts" <<HOSTS
10.77.9.1 allowed.test later.test
10.77.9.2 blocked.test
10.77.9.4 $SECRET
10.77.9.5 forcesafesearch.google.com
HOSTS
echo blocked.test >"$T/e2e.domains"
printf 'sha256:%s\n' "$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)" \
	>"$T/abuse.hashes"
# The alert command says who it runs as.
cat >"$T/alert.sh" <<SH
#!/bin/sh
{ id -u; grep -E '^(Cap|NoNewPrivs|Seccomp)' /proc/self/status; } >"$T/out/alert.tmp"
mv "$T/out/alert.tmp" "$T/out/alert.txt"
SH
chmod 0755 "$T/alert.sh"
# conf DEVICES: the config, with DEVICES (libconfig list body).
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 31, 32 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; block_page = [ "10.77.0.1" ]; };
blockpage = { serve = true; port = 80; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
lists = ( { category = "testcat"; files = [ "e2e.domains" ]; },
          { category = "abuse"; confidential = true;
            files = [ "abuse.hashes" ]; } );
block = [ "testcat", "abuse" ];
devices = ( $1 );
default_profile = "default";
profiles = { default = { fail = "open"; safe_search = { google = true; }; };
             kid = { fail = "closed"; }; };
alert = { command = "$T/alert.sh"; interval = 10; };
risk = { abuse = { enabled = true; window = 0; }; };
log = { events = "$T/log/events.jsonl"; level = "debug";
        syslog = { target = "udp://127.0.0.1:${2:-5514}"; facility = "local5"; }; };
control = { socket = "$T/run/control.sock"; state = "$T/var/state"; };
CONF
}
conf ''
ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/run/control.sock" "$@"; }

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/rtr.hosts"
udp_sink 5514 "$T/syslog.out" || not_ok "the syslog receiver listens"
wait_dns in_lan dig +time=1 +tries=1 @10.77.0.1 allowed.test || not_ok "dnsmasq answers"

# field FIELD FILE: FIELD's value in a /proc status file, its words one
# blank apart ("Uid: 0 0 0 0" gives "0 0 0 0").
field() { awk -v f="$1:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "$2"; }
# status FIELD [COMM]: FIELD's value for the daemon, or for each of its
# threads whose name matches COMM (a shell pattern), one a line.
status() {
	local f=$1 comm=${2:-} t
	if [ -z "$comm" ]; then field "$f" /proc/$SG_PID/status; return; fi
	for t in /proc/$SG_PID/task/*; do
		case $(cat "$t/comm") in
		$comm) field "$f" "$t/status" ;;
		esac
	done
}
# every FIELD VALUE [COMM]: at least one such thread, and all have VALUE.
every() {
	local out
	out=$(status "$1" "${3:-*}")
	echo "$1 ${3:-*}: $(echo "$out" | sort | uniq -c | tr '\n' ' ')"
	[ -n "$out" ] && [ -z "$(echo "$out" | grep -vxF -- "$2")" ]
}
# The kernel's log, read as it comes (the ring buffer is small, and other
# daemons may fill it), for the lines of system calls refused to this
# daemon (not those only logged: code=0x7ffc0000, as the sanitizer
# build's allowlists do).
KMSG=
if dmesg >/dev/null 2>&1; then
	dmesg -W -k >"$T/kmsg" 2>/dev/null &
	echo $! >"$T/kmsg.bgpid"
	KMSG=$T/kmsg
fi
refused() {
	grep 'type=1326' "$KMSG" | grep -F "exe=\"$TOP/$BUILD/safegated\"" |
		grep -v 'code=0x7ffc0000'
	return 0
}

# The last -u wins over lib.sh's -u root.
safegated_start "$T/sg.conf" -u "$SGU"
check_out "starts as root, and says what it gave up" \
	"privileges: user $SGU, CAP_NET_ADMIN and CAP_NET_RAW, system call filters on" \
	cat "$T/safegated.log"
check_out "filtering" 'filtering' cat "$T/safegated.log"
check_not_out "it warns of nothing it cannot reach" "privileges: user $SGU cannot" \
	cat "$T/safegated.log"

# --- the process and its threads ---------------------------------------------------
check_out "runs as its user (real, effective, saved, fs)" "^$U $U $U $U\$" status Uid
check_out "in its group" "^$G $G $G $G\$" status Gid
check_out "with no other group" "^$G ?\$" status Groups
for c in CapPrm CapEff CapInh CapAmb CapBnd; do
	check_out "main: $c is CAP_NET_ADMIN and CAP_NET_RAW" '^0000000000003000$' status $c
done
check_out "main: no_new_privs" '^1$' status NoNewPrivs
check_out "main: seccomp filter mode" '^2$' status Seccomp
check_out "main: the base filter alone" '^1$' status Seccomp_filters
check "every thread: its uid" every Uid "$U $U $U $U"
check "every thread: no_new_privs" every NoNewPrivs 1
check "every thread: seccomp filter mode" every Seccomp 2
check "every thread: bounding set CAP_NET_ADMIN and CAP_NET_RAW" every CapBnd 0000000000003000
check_out "two queue workers, sg-queue31 and sg-queue32" '^sg-queue31 sg-queue32 $' \
	sh -c "cat /proc/$SG_PID/task/*/comm | grep '^sg-queue' | sort | tr '\n' ' '"
check "workers: CAP_NET_ADMIN and CAP_NET_RAW (verdicts need it)" \
	every CapEff 0000000000003000 'sg-queue*'
check "workers: base and worker filters" every Seccomp_filters 2 'sg-queue*'
check "block page: no capability once port 80 is bound (effective)" \
	every CapEff 0000000000000000 sg-blockpage
check "block page: no capability once port 80 is bound (permitted)" \
	every CapPrm 0000000000000000 sg-blockpage
check "block page: none ambient" every CapAmb 0000000000000000 sg-blockpage
check "block page: base and block page filters" every Seccomp_filters 2 sg-blockpage
check "writer, syslog: no capability (permitted)" \
	every CapPrm 0000000000000000 sg-aux
check "writer, syslog: none ambient" every CapAmb 0000000000000000 sg-aux
check "writer, syslog: the base filter" every Seccomp_filters 1 sg-aux
# SO_MARK: CAP_NET_RAW alone since Linux 5.17, CAP_NET_ADMIN before.
kv=$(uname -r | awk -F. '{ print $1 * 1000 + $2 }')
if [ "$kv" -ge 5017 ]; then mark_caps=0000000000002000; else mark_caps=0000000000003000; fi
check "safe-search resolver: only what SO_MARK needs ($mark_caps)" \
	every CapPrm $mark_caps sg-safehosts
check "safe-search resolver: none ambient" every CapAmb 0000000000000000 sg-safehosts
check_not_out "safe-search resolver: its queries are marked" 'cannot set SO_MARK' \
	cat "$T/safegated.log"
check_out "one thread with main's name and capabilities" '^1$' \
	sh -c "grep -lx safegated /proc/$SG_PID/task/*/comm | wc -l"
check_out "status: user $SGU" "^user $SGU\$" ctl status
check_out "status: seccomp on" '^seccomp on$' ctl status

# --- it still does its work ------------------------------------------------------------
check_out "blocks" 'status: NXDOMAIN' in_lan dig +time=2 +tries=1 @10.77.0.1 blocked.test
check_out "allows" '^10\.77\.9\.1$' in_lan dig +time=2 +tries=1 @10.77.0.1 allowed.test +short
check_out "serves the block page on port 80" '^HTTP/1\.1 200' \
	in_lan curl -sS --max-time 5 -i http://10.77.0.1/
check_out "records the event" '"name":"blocked\.test"' cat "$T/log/events.jsonl"
check_out "the events folder it made is the user's" "^$SGU 750\$" command stat -c '%U %a' "$T/log"
check_out "the events file is the user's" "^$SGU\$" command stat -c %U "$T/log/events.jsonl"
check_out "a pause is saved" 'paused until' ctl pause 10.77.0.3 --for 10m
check_out "the state folder it made is the user's" "^$SGU 750\$" \
	command stat -c '%U %a' "$T/var"
check_out "the state file is the user's" "^$SGU\$" command stat -c %U "$T/var/state"
check_out "the control socket's folder is the user's" "^$SGU\$" command stat -c %U "$T/run"
out=$(in_lan dig +time=2 +tries=1 @10.77.0.1 "$SECRET" A 2>&1)
for i in $(seq 1 100); do [ -e "$T/out/alert.txt" ] && break; sleep 0.1; done
check_out "the alert command ran, as the user" "^$U\$" head -1 "$T/out/alert.txt"
check_out "the alert command: no capability" '^CapEff:[[:space:]]+0000000000000000$' \
	cat "$T/out/alert.txt"
check_out "the alert command: none ambient" '^CapAmb:[[:space:]]+0000000000000000$' \
	cat "$T/out/alert.txt"
check_out "the alert command: no_new_privs, under the base filter" \
	'^NoNewPrivs:[[:space:]]+1$' cat "$T/out/alert.txt"
check_out "the alert command: seccomp filter mode" '^Seccomp:[[:space:]]+2$' \
	cat "$T/out/alert.txt"
for i in $(seq 1 50); do grep -q 'blocked\.test' "$T/syslog.out" 2>/dev/null && break; sleep 0.1; done
check_out "syslog gets the record" 'blocked\.test' cat "$T/syslog.out"

# --- reload: config and lists read as the user, the firewall tools re-run ---
echo later.test >>"$T/e2e.domains"
# A new syslog target: the reload starts a new sender.
udp_sink 5515 "$T/syslog2.out" || not_ok "the second syslog receiver listens"
conf '{ name = "kid"; ip = "10.77.0.2"; profile = "kid"; }' 5515
check_out "reload as the user" '^generation 2$' ctl reload
check_out "after the reload, still one thread with main's name" '^1$' \
	sh -c "grep -lx safegated /proc/$SG_PID/task/*/comm | wc -l"
check "after the reload, the new syslog sender: no capability" \
	every CapPrm 0000000000000000 sg-aux
in_lan dig +time=2 +tries=1 @10.77.0.1 later.test >/dev/null 2>&1
for i in $(seq 1 50); do grep -q 'later\.test' "$T/syslog2.out" 2>/dev/null && break; sleep 0.1; done
check_out "after the reload, syslog goes to the new target" 'later\.test' cat "$T/syslog2.out"
check_out "the firewall tools ran again (device rules replaced)" \
	'firewall: rules for devices and profiles replaced' cat "$T/safegated.log"
check_out "the new device rule is up" \
	'^-A SAFEGATE_INPUT -s 10\.77\.0\.2/32 -g SAFEGATE_INPUT_CLOSED$' \
	in_rtr iptables -S SAFEGATE_INPUT
check_out "the new list is in force" 'status: NXDOMAIN' \
	in_lan dig +time=2 +tries=1 @10.77.0.1 later.test

if [ -n "$KMSG" ]; then
	check_not_out "the kernel refused it no system call" 'type=1326' refused
else
	ok "the kernel refused it no system call # skip: dmesg cannot be read"
fi
safegated_stop
check "stops cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
check_out "takes its rules down, as the user" '^0$' rules_left
check "removes its control socket" test ! -e "$T/run/control.sock"

# --- -U: nothing given up ------------------------------------------------------------
ip netns exec "$RTR" "$TOP/$BUILD/safegated" -f -U -c "$T/sg.conf" \
	>"$T/safegated-U.log" 2>&1 &
SG_PID=$!
for i in $(seq 1 100); do grep -q filtering "$T/safegated-U.log" && break; sleep 0.1; done
check_out "-U: says it keeps everything" '-U: keeping user root' cat "$T/safegated-U.log"
check_out "-U: stays root" '^0 0 0 0$' status Uid
check_out "-U: no filter" '^0$' status Seccomp
check_out "-U: status says so" '^seccomp off \(-U\)$' ctl status
check_out "-U: still filters" 'status: NXDOMAIN' \
	in_lan dig +time=2 +tries=1 @10.77.0.1 blocked.test
safegated_stop
check "-U: stops cleanly" test "$SG_STATUS" = 0
check_out "-U: takes its rules down" '^0$' rules_left
finish
