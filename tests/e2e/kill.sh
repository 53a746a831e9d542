#!/usr/bin/env bash
# kill.sh - safegated killed (SIGKILL: no clean-up, rules left up) in the
# middle of a download.  A decided connection lives on its connection mark,
# in the kernel, so the download finishes either way.  New connections
# then depend on fail_open: with it, the queue is bypassed and they pass;
# without it, nobody reads the queue and they get nowhere.
. "$(dirname "$0")/lib.sh"
need_root
for tool in curl python3; do
	command -v $tool >/dev/null || { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
done
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up

printf '%s\n' '# reserved names only' blocked.test >"$T/kill.domains"
# conf FAIL_OPEN: writes $T/sg.conf
conf() {
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 13 ]; fail_open = $1; };
firewall = { manage = true; backend = "auto"; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "testcat"; files = [ "kill.domains" ]; } );
block = [ "testcat" ];
log = { level = "info"; };
control = { socket = "$T/control.sock"; };
CONF
}

mkdir -p "$T/www"
head -c 30000000 /dev/zero >"$T/www/big"
echo small >"$T/www/small"
ip netns exec "$WAN" python3 -m http.server 80 --bind 10.78.0.2 \
	--directory "$T/www" >"$T/http.log" 2>&1 &
echo $! >"$T/http.bgpid"
c() { in_lan curl -sS "$@" --resolve allowed.test:80:10.78.0.2; }
wait_dns c --max-time 2 -o /dev/null http://allowed.test/small ||
	{ not_ok "the HTTP server answers"; exit 1; }

for mode in false true; do
	conf $mode
	safegated_start "$T/sg.conf" || { not_ok "safegated starts ($mode)"; exit 1; }
	# 30 MB at 6 MB/s: five seconds, the daemon killed after one.
	c --limit-rate 6M --max-time 30 -o /dev/null -w '%{size_download}' \
		http://allowed.test/big >"$T/dl.out" 2>&1 &
	dl=$!
	sleep 1
	kill -KILL "$SG_PID"
	wait "$SG_PID" 2>/dev/null
	SG_PID=
	wait $dl
	check_out "fail_open=$mode: the download started before the kill completes" \
		'^30000000$' cat "$T/dl.out"
	if [ $mode = true ]; then
		check_out "fail_open=true: a new connection passes with nobody reading the queue" \
			'^small$' c --max-time 5 http://allowed.test/small
	else
		check_out "fail_open=false: a new connection gets nowhere" \
			'timed out|Connection timed out|^000' c --max-time 3 -o /dev/null \
			-w '%{http_code}' http://allowed.test/small
	fi
	check "the rules, left up by the kill, come down with -R down" \
		in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down
done
check_out "and nothing of ours is left" '^0$' rules_left
finish
