#!/usr/bin/env bash
# queue_overflow.sh - the kernel's queue overflows, and safegated recovers.
#
# safegated is stopped (SIGSTOP) so that nobody reads its queue, a burst of
# queries comes, and it is let go on (SIGCONT).  Two ways to overflow:
#
#   full      queue.max_len = MAXLEN (64): the first MAXLEN packets wait
#             in the queue; the kernel turns the rest away at once -
#             dropped with fail_open = false (its queue_dropped counter),
#             let through unfiltered with fail_open = true (counted
#             nowhere: blocked.test answered NOERROR by dnsmasq shows it).
#             safegated sees nothing amiss: no ENOBUFS.
#   overrun   max_len = 200000, more than the netlink socket's receive
#             buffer (8 MB asked, 16 MB given) holds: about 20000 packets
#             wait in the buffer; those that do not fit are dropped
#             (user_dropped) or let through (fail_open), and safegated's
#             next read fails with ENOBUFS: queueN_enobufs counts it, the
#             log says it (once a minute), and it reads on.
#
# After each burst: every packet that waited gets its verdict (blocked.test
# NXDOMAIN, forged by safegated; the rest answered by dnsmasq), and a
# steady load that follows is answered in full, with its verdicts.  The
# overrun burst asks blocked.test alone: safegated answers those itself,
# so dnsmasq (which cannot take 20000 at once) does not blur the count.
#
# Knobs: MAXLEN (64), FULL (1000 queries), OVERRUN (50000 queries).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { echo "not ok - python3 missing: run 'make deps'"; exit 1; }
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up
# The daemon may run as the user safegate (priv.h): $T readable, and what
# it writes (control socket, state, events) in folders it makes itself.
chmod 0755 "$T"
ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }

MAXLEN=${MAXLEN:-64}
FULL=${FULL:-1000}
OVERRUN=${OVERRUN:-50000}
Q=15

{ echo "10.77.9.1 blocked.test"; for i in 1 2 3; do echo "10.77.9.1 ok$i.test"; done; } \
	>"$T/rtr.hosts"
printf '%s\n' '# reserved names only' blocked.test >"$T/q.domains"
conf() {	# conf FAIL_OPEN MAX_LEN
	cat >"$T/sg.conf" <<CONF
queue = { numbers = [ $Q ]; fail_open = $1; max_len = $2; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "testcat"; files = [ "q.domains" ]; } );
block = [ "testcat" ];
log = { level = "info"; };
control = { socket = "$T/ctl/control.sock"; };
CONF
}


# count FILE: "sent N nx N noerror N lost N blocked_noerror N slow N
# slow_blocked N slow_blocked_nx N" (slow: answered after 500 ms, i.e.
# held in the queue while safegated was stopped).
count() {
	awk '{ n++; if ($3 == "NXDOMAIN") nx++; else if ($3 == "NOERROR") ok++; else if ($3 == "lost") l++
		if ($2 == "blocked.test" && $3 == "NOERROR") bok++
		if ($3 != "lost" && $4 > 500) { slow++; if ($2 == "blocked.test") { sb++; if ($3 == "NXDOMAIN") sbnx++ } } }
	END { printf "sent %d nx %d noerror %d lost %d blocked_noerror %d slow %d slow_blocked %d slow_blocked_nx %d\n",
		n, nx, ok, l, bok, slow, sb, sbnx }' "$1"
}
field() { echo "$1" | awk -v k="$2" '{ for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }'; }
# kq: our queue's line of the kernel's table: waiting, dropped (queue
# full), user_dropped (socket full), last id.
kq() { in_rtr awk -v q=$Q '$1 == q { print "waiting", $3, "dropped", $6, "user_dropped", $7, "ids", $8 }' \
	/proc/net/netfilter/nfnetlink_queue; }
st() { ctl stats | awk -v k="$1" '$1 == k { print $2 }'; }

dnsmasq_quiet() {	# no --log-queries: tens of thousands of queries follow
	ip netns exec "$RTR" dnsmasq --keep-in-foreground --no-resolv --no-hosts \
		--addn-hosts="$T/rtr.hosts" --listen-address=10.77.0.1 \
		--bind-interfaces --user=root --group=root --pid-file="$T/dnsmasq.pid" \
		--cache-size=0 --log-facility="$T/dnsmasq.log" &
	echo $! >"$T/dnsmasq.bgpid"
}
dnsmasq_quiet
dig1() { in_lan dig +time=1 +tries=1 @10.77.0.1 "$@"; }
wait_dns dig1 ok1.test || { not_ok "router dnsmasq answers"; exit 1; }

# burst WHAT FAIL_OPEN MAX_LEN N RATE NAME...: the whole cycle, checked.
burst() {
	local what=$1 fo=$2 ml=$3 n=$4 rate=$5; shift 5
	local k0 k1 k2 b a p0 p1 e0 e1 secs
	conf "$fo" "$ml"
	"$TOP/$BUILD/safegate-lists" compile -c "$T/sg.conf" -o "$T/lists.sgdb" >/dev/null 2>&1
	sg_start || { not_ok "$what fail_open=$fo: safegated starts"; return; }
	p0=$(st queue${Q}_packets); e0=$(st queue${Q}_enobufs)
	kill -STOP "$SG_PID"
	secs=$(awk -v n="$n" -v r="$rate" 'BEGIN { printf "%.3f", n / r }')
	load 10.77.0.1 "$rate" "$secs" 8 "$T/burst" "$@" &
	local lp=$!
	sleep "$(awk -v s="$secs" 'BEGIN { printf "%.3f", s + 1 }')"
	k1=$(kq)
	kill -CONT "$SG_PID"
	wait $lp
	k2=$(kq)
	local kd ku
	kd=$(st queue${Q}_kernel_full_dropped); ku=$(st queue${Q}_kernel_socket_dropped)
	b=$(count "$T/burst")
	p1=$(st queue${Q}_packets); e1=$(st queue${Q}_enobufs)
	load 10.77.0.1 200 1 1 "$T/after" blocked.test ok1.test ok2.test ok3.test
	a=$(count "$T/after")
	echo "# $what, fail_open=$fo, max_len=$ml: $n queries at $rate/s while stopped"
	echo "#   kernel, stopped: $k1"
	echo "#   kernel, after:   $k2"
	echo "#   safegated: packets $((p1 - p0)), enobufs $((e1 - e0)), verdicts $(st queue${Q}_verdicts)"
	echo "#   client, burst: $b"
	echo "#   client, after: $a"
	local waited dropped udropped
	waited=$(field "$k1" waiting); dropped=$(field "$k2" dropped); udropped=$(field "$k2" user_dropped)
	check "$what fail_open=$fo: safegatectl stats has the kernel's drops ($kd full, $ku socket)" \
		test "$kd" = "$dropped" -a "$ku" = "$udropped"
	check "$what fail_open=$fo: the burst was sent ($(field "$b" sent) of $n)" \
		test "$(field "$b" sent)" -ge $((n / 2))
	check "$what fail_open=$fo: safegated got every packet that waited ($((p1 - p0)) = $waited)" \
		test "$((p1 - p0))" = "$waited" -a "$waited" -gt 0
	check "$what fail_open=$fo: ... and gave each a verdict" \
		test "$(st queue${Q}_verdicts)" = "$(st queue${Q}_packets)"
	check "$what fail_open=$fo: every query that waited was answered late, blocked.test by NXDOMAIN" \
		test "$(field "$b" slow)" = "$waited" -a "$(field "$b" slow_blocked_nx)" = "$(field "$b" slow_blocked)" \
		-a "$(field "$b" slow_blocked)" -gt 0
	if [ "$what" = full ]; then
		check "full fail_open=$fo: the queue held max_len packets ($waited = $ml)" test "$waited" = "$ml"
		check "full fail_open=$fo: safegated saw no ENOBUFS" test "$((e1 - e0))" = 0
		check "full fail_open=$fo: nothing was dropped at the socket" test "$udropped" = 0
		if [ "$fo" = false ]; then
			check "full fail_open=false: the kernel dropped the rest ($dropped = $(field "$b" sent) - $ml)" \
				test "$dropped" = $(( $(field "$b" sent) - ml ))
			check "full fail_open=false: the client lost exactly those" test "$(field "$b" lost)" = "$dropped" -a "$dropped" -gt 0
		else
			check "full fail_open=true: the kernel dropped nothing" test "$dropped" = 0
			check "full fail_open=true: the rest went through unfiltered ($(field "$b" blocked_noerror) blocked.test NOERROR)" \
				test "$(field "$b" blocked_noerror)" -gt 0 -a "$(field "$b" lost)" = 0
		fi
	else
		check "overrun fail_open=$fo: safegated saw ENOBUFS and counted it ($((e1 - e0)))" test "$((e1 - e0))" -ge 1
		check_out "overrun fail_open=$fo: the log says so" \
			"queue $Q: receive buffer overrun: packets that did not fit were $([ "$fo" = true ] && echo 'let through unfiltered' || echo dropped)" \
			cat "$T/safegated.log"
		check "overrun fail_open=$fo: the queue was not full (the buffer was)" test "$dropped" = 0
		if [ "$fo" = false ]; then
			check "overrun fail_open=false: the kernel dropped what did not fit ($udropped)" \
				test "$udropped" -gt 0 -a "$udropped" = $(( $(field "$k2" ids) - waited ))
			check "overrun fail_open=false: the client lost exactly those" test "$(field "$b" lost)" = "$udropped"
		else
			check "overrun fail_open=true: nothing counted dropped" test "$udropped" = 0
			check "overrun fail_open=true: what did not fit went through unfiltered ($(field "$b" blocked_noerror) blocked.test NOERROR)" \
				test "$(field "$b" blocked_noerror)" -gt 0
		fi
	fi
	check "$what fail_open=$fo after: none of the steady queries lost" \
		test "$(field "$a" lost)" = 0 -a "$(field "$a" sent)" -gt 100
	check "$what fail_open=$fo after: all with their verdicts" \
		test "$(field "$a" nx)" = "$(grep -c ' blocked\.test ' "$T/after")" -a "$(field "$a" blocked_noerror)" = 0
	check "$what fail_open=$fo: safegated is still running" kill -0 "$SG_PID"
	safegated_stop
	check "$what fail_open=$fo: a clean stop exits 0" test "$SG_STATUS" = 0
}

burst full false "$MAXLEN" "$FULL" 5000 blocked.test ok1.test ok2.test ok3.test
burst full true "$MAXLEN" "$FULL" 5000 blocked.test ok1.test ok2.test ok3.test
burst overrun false 200000 "$OVERRUN" 50000 blocked.test
burst overrun true 200000 "$OVERRUN" 50000 blocked.test
check_out "no rule of ours is left" '^0$' rules_left
finish
