#!/usr/bin/env bash
# caps.sh - safegated as the systemd unit runs it: not root, with only
# CAP_NET_ADMIN and CAP_NET_RAW (ambient, so the firewall tools it runs
# inherit them) and CAP_NET_BIND_SERVICE for the block page's port 80.  It
# must filter, serve the page, record, and take its rules down; once the
# page's port is bound it keeps CAP_NET_ADMIN and CAP_NET_RAW alone (the
# page's own thread, none at all), with no_new_privs and
# its seccomp filters on every thread (priv.h).  Without the capabilities
# it must refuse to start with a clear message.
. "$(dirname "$0")/lib.sh"
need_root
command -v setpriv >/dev/null || { echo "not ok - setpriv missing"; exit 1; }
command -v curl >/dev/null || { echo "not ok - curl missing: run 'make deps'"; exit 1; }
trap cleanup EXIT
net_up

chmod 755 "$T"
chown nobody "$T"
printf '10.77.9.1 allowed.test\n10.77.9.2 blocked.test\n' >"$T/hosts"
echo blocked.test >"$T/e2e.domains"
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 5 ]; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";   # never there: compiled at load
lists = ( { category = "testcat"; files = [ "e2e.domains" ]; } );
block = [ "testcat" ];
log = { events = "$T/events.jsonl"; };
control = { socket = "$T/control.sock"; };
dns = { block_page = [ "10.77.0.1" ]; };
blockpage = { serve = true; port = 80; };
CONF
dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1 "$T/hosts"
wait_dns in_lan dig +time=1 +tries=1 @10.77.0.1 allowed.test || not_ok "dnsmasq answers"

# Started directly (not through a function) so that $! is the daemon:
# ip netns exec and setpriv both exec what they run.
ip netns exec "$RTR" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_admin,+net_raw,+net_bind_service \
	--ambient-caps=-all,+net_admin,+net_raw,+net_bind_service \
	--bounding-set=-all,+net_admin,+net_raw,+net_bind_service \
	"$TOP/$BUILD/safegated" -f -c "$T/sg.conf" >"$T/safegated.log" 2>&1 &
SG_PID=$!
for i in $(seq 1 50); do grep -q filtering "$T/safegated.log" && break; sleep 0.1; done
check_out "starts as nobody with two capabilities" 'filtering' cat "$T/safegated.log"
check_out "runs as nobody" "^Uid:[[:space:]]+$(id -u nobody)" cat /proc/$SG_PID/status
check_out "holds exactly CAP_NET_ADMIN and CAP_NET_RAW" '^CapEff:[[:space:]]+0000000000003000' \
	cat /proc/$SG_PID/status
check_out "and only those ambient" '^CapAmb:[[:space:]]+0000000000003000' \
	cat /proc/$SG_PID/status
# threads COMM FIELD: FIELD's value in each thread named COMM, one a line.
threads() {
	local t
	for t in /proc/$SG_PID/task/*; do
		[ "$(cat "$t/comm")" = "$1" ] && awk -v f="$2:" '$1 == f { print $2 }' "$t/status"
	done
	return 0
}
check_out "the block page's thread holds none, once its port is bound" '^0000000000000000$' \
	threads sg-blockpage CapEff
check_out "the queue's worker holds CAP_NET_ADMIN and CAP_NET_RAW" '^0000000000003000$' \
	threads sg-queue5 CapEff
# every FIELD: the values FIELD has across all threads, each once.
every() {
	cat /proc/$SG_PID/task/*/status | awk -v f="$1:" '$1 == f { print $2 }' |
		sort -u | tr '\n' ' '
}
check_out "every thread: no_new_privs" '^1 $' every NoNewPrivs
check_out "every thread: seccomp filter mode" '^2 $' every Seccomp
check_out "safegatectl: seccomp on" '^seccomp on$' ctl status
check_out "serves the block page on port 80" '^HTTP/1\.1 200' \
	in_lan curl -sS --max-time 5 -i http://10.77.0.1/
check_out "blocks" 'status: NXDOMAIN' in_lan dig +time=2 +tries=1 @10.77.0.1 blocked.test
check_out "allows" '10\.77\.9\.1' in_lan dig +time=2 +tries=1 @10.77.0.1 allowed.test +short
check_out "records the event" '"name":"blocked\.test"' cat "$T/events.jsonl"
check_out "safegatectl reaches it" 'generation 1' ctl status
safegated_stop
check "stops cleanly" test "$SG_STATUS" = 0
check_out "takes its rules down" '^0$' rules_left

ip netns exec "$RTR" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all --bounding-set=-all \
	"$TOP/$BUILD/safegated" -f -c "$T/sg.conf" >"$T/nocaps.log" 2>&1
check "without the capabilities it refuses to start" test $? -ne 0
check_out "and says why" 'CAP_NET_(RAW|ADMIN)' cat "$T/nocaps.log"
check_out "and leaves no rule behind" '^0$' rules_left
finish
