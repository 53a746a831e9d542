#!/usr/bin/env bash
# caps.sh - safegated as the systemd unit runs it: not root, with only
# CAP_NET_ADMIN and CAP_NET_RAW (ambient, so the firewall tools it runs
# inherit them).  It must filter, record, and take its rules down; without
# the capabilities it must refuse to start with a clear message.
. "$(dirname "$0")/lib.sh"
need_root
command -v setpriv >/dev/null || { echo "not ok - setpriv missing"; exit 1; }
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
CONF
dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1 "$T/hosts"
wait_dns in_lan dig +time=1 +tries=1 @10.77.0.1 allowed.test || not_ok "dnsmasq answers"

# Started directly (not through a function) so that $! is the daemon:
# ip netns exec and setpriv both exec what they run.
ip netns exec "$RTR" setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all,+net_admin,+net_raw --ambient-caps=-all,+net_admin,+net_raw \
	--bounding-set=-all,+net_admin,+net_raw \
	"$TOP/$BUILD/safegated" -f -c "$T/sg.conf" >"$T/safegated.log" 2>&1 &
SG_PID=$!
for i in $(seq 1 50); do grep -q filtering "$T/safegated.log" && break; sleep 0.1; done
check_out "starts as nobody with two capabilities" 'filtering' cat "$T/safegated.log"
check_out "runs as nobody" "^Uid:[[:space:]]+$(id -u nobody)" cat /proc/$SG_PID/status
check_out "holds exactly CAP_NET_ADMIN and CAP_NET_RAW" '^CapEff:[[:space:]]+0000000000003000' \
	cat /proc/$SG_PID/status
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
