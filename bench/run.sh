#!/usr/bin/env bash
# run.sh BUILD_DIR SHARED_DIR - dnsperf from the lan namespace against the
# router's resolver, three ways, interleaved in rounds:
#
#   1 dnsmasq     dnsmasq alone; queries for names outside the list
#   2 allowed     the same queries, with safegated in front holding the
#                 1.2M-name list: every query crosses NFQUEUE and is accepted
#   3 blocked     listed names and their subdomains: safegated answers them
#                 itself (NXDOMAIN) and drops the query; dnsmasq never sees it
#
# Results: BUILD_DIR/bench-results.tsv (one row per dnsperf run),
# BUILD_DIR/bench-daemon.tsv (safegated load time, memory and counters per
# round) and BUILD_DIR/bench-summary.txt (the table printed at the end).
# bench/RESULTS.md says what the figures mean.
#
# The list is CC BY-SA data: it is decompressed into a temporary folder at
# run time and deleted on exit, never copied into the repository.
#
# Knobs (environment): ROUNDS (5), DURATION seconds per run (15), WARMUP
# seconds of unrecorded dnsmasq load first (3), PROFILES (1: a family's
# policy in front of the list: 200 devices by MAC, the client's profile
# by CIDR with 1000-name allow and deny lists, two schedules, safe search
# and no-data HTTPS; 0: one rule for all, as before), CLIENTS (-c, 4),
# OUTSTANDING (-q, 100), PIN (1: dnsperf on CPU 0, dnsmasq and safegated on
# CPU 1; 0: no pinning), EVENTS (1: safegated writes its event log, as
# shipped; 0: no event log), PERF (1: perf record safegated during the last
# round's runs 2 and 3, report in BUILD_DIR/bench-perf-*.txt), RATE (after
# the rounds, one more run of each configuration at this fixed rate, -Q,
# well below saturation, for latencies that are not queueing; 0: skip).
set -u

usage() { echo "usage: bench/run.sh BUILD_DIR SHARED_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
[ -d "$1" ] || { echo "bench: no build folder $1 (run make first)" >&2; exit 1; }
BIN=$(cd "$1" && pwd)
SHARED=$(cd "$2" 2>/dev/null && pwd) ||
	{ echo "bench: no shared folder $2" >&2; exit 1; }
LISTS=$SHARED/lists/bench

ROUNDS=${ROUNDS:-5}
DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
CLIENTS=${CLIENTS:-4}
OUTSTANDING=${OUTSTANDING:-100}
PIN=${PIN:-1}
EVENTS=${EVENTS:-1}
PROFILES=${PROFILES:-0}
PERF=${PERF:-0}
RATE=${RATE:-10000}

# lib.sh gives the namespaces (net_up, in_lan, in_rtr) and cleanup().  It
# works out TOP and T for tests/e2e/; both are set again for bench/.
export BUILD=$BIN
. "$(dirname "$0")/../tests/e2e/lib.sh"
TOP=$(cd "$(dirname "$0")/.." && pwd)
rmdir "$T"
T=$(mktemp -d /tmp/safegate-bench.XXXXXX)

rm -f "$BIN"/bench-perf-*.txt "$BIN"/bench-stats-round*.txt
RESULTS=$BIN/bench-results.tsv
DAEMON=$BIN/bench-daemon.tsv
SUMMARY=$BIN/bench-summary.txt
SOCK=$T/control.sock

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (namespaces, NFQUEUE): run 'sudo make bench'" >&2
	exit 1
fi
for tool in ip iptables dnsmasq dnsperf dig xz taskset; do
	command -v $tool >/dev/null ||
		{ echo "bench: $tool missing: run 'make deps'" >&2; exit 1; }
done
for f in "$BIN/safegated" "$BIN/safegatectl" "$LISTS/union-1m.domains.xz" \
    "$LISTS/queries-100k.txt" "$LISTS/queries-100k.labels"; do
	[ -e "$f" ] || { echo "bench: $f missing" >&2; exit 1; }
done

if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
	PIN_CLIENT="taskset -c 0"
	PIN_ROUTER="taskset -c 1"
	PINNING="dnsperf on CPU 0; dnsmasq and safegated on CPU 1"
else
	PIN_CLIENT=""
	PIN_ROUTER=""
	PINNING="none"
fi

TIMEFORMAT='time %R %U %S'
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { printf '# %s\n' "$*" >&2; }

now() { date +%s.%N; }

# ---------------------------------------------------------------- data
log "preparing the list and the query files in $T"
xz -dc "$LISTS/union-1m.domains.xz" >"$T/union-1m.domains" ||
	{ echo "bench: cannot decompress the list" >&2; exit 1; }
LIST_NAMES=$(wc -l <"$T/union-1m.domains")

# Lines of queries-100k.txt by their label: U = unlisted, L = listed,
# S = a subdomain of a listed name.
paste -d ' ' "$LISTS/queries-100k.labels" "$LISTS/queries-100k.txt" \
	>"$T/labelled"
awk '$1 == "U" { print $2 " A" }' "$T/labelled" >"$T/allowed.queries"
awk '$1 == "L" || $1 == "S" { print $2 " A" }' "$T/labelled" \
	>"$T/blocked.queries"
# dnsmasq answers every allowed name from its hosts file, one address each.
awk '$1 == "U" && !seen[$2]++ { n++;
	printf "10.%d.%d.%d %s\n", 100 + int(n / 65536), int(n / 256) % 256,
	    n % 256, $2 }' "$T/labelled" >"$T/hosts"
ALLOWED_Q=$(wc -l <"$T/allowed.queries")
BLOCKED_Q=$(wc -l <"$T/blocked.queries")
HOSTS_N=$(wc -l <"$T/hosts")
log "list: $LIST_NAMES names; allowed set: $ALLOWED_Q queries" \
    "($HOSTS_N distinct, all in dnsmasq's hosts file); blocked set:" \
    "$BLOCKED_Q queries"

# The policy of a family with many devices: the client (10.77.0.2) is
# found by its /24 after 200 MACs miss, and its profile's lists and
# schedules are consulted on every query.
profiles_conf() {
	local i
	echo "devices = ("
	for i in $(seq 0 199); do
		printf '  { name = "d%d"; mac = "02:00:00:00:%02x:%02x"; profile = "adult"; },\n' \
		    "$i" $((i / 256)) $((i % 256))
	done
	echo '  { name = "lan"; cidr = "10.77.0.0/24"; profile = "child"; } );'
	echo 'default_profile = "adult";'
	echo 'profiles = { adult = { };'
	echo '  child = { block = [ "bench" ];'
	printf '    allow = [ %s ];\n' "$(seq 0 999 | sed 's/.*/"a&.allow.example"/' | paste -sd,)"
	printf '    deny = [ %s ];\n' "$(seq 0 999 | sed 's/.*/"d&.deny.example"/' | paste -sd,)"
	# a bedtime of two windows, twelve hours away: read on every query,
	# in force in none (so the verdicts stay those of the other runs)
	local h=$(( (10#$(date +%H) + 12) % 24 ))
	printf '    schedules = { bedtime = { when = "Sun-Thu %02d:00-%02d:30; Fri,Sat %02d:00-%02d:45"; block = "all"; };\n' \
	    "$h" "$h" "$h" "$h"
	echo '                  homework = { when = "weekdays 16:00-18:00"; services = [ "roblox" ]; }; };'
	echo '    safe_search = { google = true; bing = true; youtube = "strict"; };'
	echo '    bypass = { ech = true; }; }; };'
	echo 'always_allow = [ "school.example" ];'
}

cat >"$T/safegate.conf" <<CONF
# safegated for the benchmark: the shipped defaults, one category holding
# the whole list, blocked.
queue = { numbers = [ 0 ]; fail_open = true; max_len = 4096; };
firewall = { manage = true; backend = "iptables"; };
dns = { block_response = "nxdomain"; ttl = 300; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "bench"; files = [ "union-1m.domains" ]; } );
block = [ "bench" ];
log = { $([ "$EVENTS" = 1 ] && echo "events = \"$T/events.jsonl\"; ")level = "info"; };
control = { socket = "$SOCK"; state = "$T/state"; };
$([ "$PROFILES" = 1 ] && profiles_conf)
CONF

mkdir -p "$T/services" && cp "$(dirname "$0")/../blocklists/services/roblox.domains" "$T/services/"

# The set safegated maps, compiled once, as safegate-lists update would.
"$BIN/safegate-lists" compile -c "$T/safegate.conf" >"$T/compile.out" 2>&1 ||
	{ cat "$T/compile.out" >&2; exit 1; }
log "compiled: $(tail -2 "$T/compile.out" | head -1)"

# ---------------------------------------------------------------- servers
net_up

# The router's resolver: lib.sh's dnsmasq_start logs every query, which
# would make dnsmasq measure its log file; this one logs only its start.
ip netns exec "$RTR" $PIN_ROUTER dnsmasq --keep-in-foreground --no-resolv \
	--no-hosts --addn-hosts="$T/hosts" --listen-address=10.77.0.1 \
	--bind-interfaces --user=root --group=root \
	--pid-file="$T/dnsmasq.pid" --local-ttl=60 --cache-size=0 \
	--log-facility="$T/dnsmasq.log" &
echo $! >"$T/dnsmasq.bgpid"
DNSMASQ_PID=$!
first_allowed=$(awk 'NR == 1 { print $1 }' "$T/allowed.queries")
ok_dns=0
for i in $(seq 1 100); do
	if in_lan dig +time=1 +tries=1 +short @10.77.0.1 "$first_allowed" A |
	    grep -q '^10\.'; then ok_dns=1; break; fi
	sleep 0.1
done
[ $ok_dns = 1 ] || { echo "bench: dnsmasq does not answer" >&2;
	cat "$T/dnsmasq.log" >&2; exit 1; }

# sg_start: runs safegated in the router, waits for "filtering"; sets
# SG_PID and LOAD_S (seconds from exec to filtering).
sg_start() {
	local t0 i
	: >"$T/safegated.log"
	t0=$(now)
	ip netns exec "$RTR" $PIN_ROUTER "$BIN/safegated" -f $SG_USER \
		-c "$T/safegate.conf" >>"$T/safegated.log" 2>&1 &
	SG_PID=$!
	for i in $(seq 1 6000); do
		if grep -q 'filtering' "$T/safegated.log"; then
			LOAD_S=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }')
			return 0
		fi
		kill -0 "$SG_PID" 2>/dev/null || break
		sleep 0.02
	done
	echo "bench: safegated did not start:" >&2
	cat "$T/safegated.log" >&2
	return 1
}

# proc_kb PID FIELD: a VmRSS-style line of /proc/PID/status, in kB.
proc_kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# stats_snap FILE: safegatectl stats as "name value" lines.
stats_snap() { in_rtr "$BIN/safegatectl" -s "$SOCK" stats >"$1"; }

# stats_delta BEFORE AFTER NAME: how much one counter grew.
stats_delta() {
	awk -v k="$3" '$1 == k { v[FILENAME] = $2 }
	    END { print v[ARGV[2]] - v[ARGV[1]] }' "$1" "$2"
}

# The kernel's own count for queue 0 in the router: packets it dropped
# because the queue was full (fail-closed) or a send to us failed.
nfq_dropped() {
	in_rtr cat /proc/net/netfilter/nfnetlink_queue 2>/dev/null |
		awk '$1 == 0 { print $6 + $7; f = 1 } END { if (!f) print 0 }'
}

# ---------------------------------------------------------------- dnsperf
# CPU accounting around each run, from /proc: per core "cpuN busy softirq
# idle steal" in ticks, then "pid ticks" (utime + stime) for the servers.
cpu_snap() {
	awk '/^cpu[0-9]/ { print $1, $2 + $3 + $4 + $7, $8, $5 + $6, $9 }' \
		/proc/stat
}
proc_ticks() {
	local p
	for p in "$@"; do
		[ -n "$p" ] && [ -r "/proc/$p/stat" ] &&
			awk -v p="$p" '{ print "pid", p, $14 + $15 }' "/proc/$p/stat"
	done
	return 0
}
# cpu_use BEFORE AFTER TIMEFILE: over the run, tab-separated: busy and
# softirq % of CPU 0 and CPU 1 (the two the runs are pinned to), steal %
# over all CPUs, then dnsperf, dnsmasq and safegated in % of one core
# ("-" when safegated is not running).
cpu_use() {
	awk -v dm="$DNSMASQ_PID" -v sg="${SG_PID:-}" -v hz="$(getconf CLK_TCK)" '
	FILENAME == ARGV[3] { if ($1 != "time") next
		wall = $2; perf = ($3 + $4) / wall * 100; next }
	$1 ~ /^cpu/ { k = $1; for (i = 2; i <= 5; i++)
		v[k, i] = FNR == NR ? -$i : v[k, i] + $i; next }
	$1 == "pid" { t[$2] = FNR == NR ? -$3 : t[$2] + $3 }
	END {
		for (k in v) { split(k, kk, SUBSEP); tot[kk[1]] += v[k] }
		for (c in tot) { st += v[c, 5]; all += tot[c] }
		for (i = 0; i < 2; i++) {
			c = "cpu" i; d = tot[c] > 0 ? tot[c] : 1
			printf "%.0f\t%.0f\t", (v[c, 2] + v[c, 3]) * 100 / d,
			    v[c, 3] * 100 / d
		}
		printf "%.0f\t%.0f\t%.0f\t", st * 100 / (all > 0 ? all : 1), perf,
		    t[dm] / hz / wall * 100
		if (sg != "") printf "%.0f", t[sg] / hz / wall * 100
		else printf "-"
	}' "$1" "$2" "$3"
}

# perf_run ROUND CONFIG QUERIES [DNSPERF ARGS...]: one dnsperf run; appends
# a row to RESULTS.
perf_run() {
	local round=$1 cfg=$2 qf=$3 out=$T/dnsperf-$1-$2 cpu
	shift 3
	cpu_snap >"$out.cpu0"
	proc_ticks "$DNSMASQ_PID" "${SG_PID:-}" >>"$out.cpu0"
	# bash's time keyword: wall, user and system seconds of dnsperf.
	{ time in_lan $PIN_CLIENT dnsperf -s 10.77.0.1 -d "$qf" \
		-l "$DURATION" -c "$CLIENTS" -q "$OUTSTANDING" -t 2 -v "$@" \
		>"$out.v" 2>"$out.err"; } 2>"$out.time"
	cpu_snap >"$out.cpu1"
	proc_ticks "$DNSMASQ_PID" "${SG_PID:-}" >>"$out.cpu1"
	cpu=$(cpu_use "$out.cpu0" "$out.cpu1" "$out.time")
	# Statistics, then the per-query latencies ("> RCODE NAME TYPE S").
	sed -n '/^Statistics:/,$p' "$out.v" >"$out.stats"
	awk '$1 == ">" { print $NF }' "$out.v" | sort -g >"$out.lat"
	rm -f "$out.v"
	awk -v round="$round" -v cfg="$cfg" -v latf="$out.lat" '
	function pct(p,   i) { i = int(p * n + 0.999999); if (i < 1) i = 1;
	    return lat[i] * 1000 }
	/Queries sent:/ { sent = $3 }
	/Queries completed:/ { done = $3 }
	/Queries lost:/ { lost = $3 }
	/Response codes:/ { sub(/.*Response codes: */, ""); gsub(/ \([0-9.%]*\)/, "");
	    gsub(/, /, ","); gsub(/ /, ":"); rc = $0 }
	/Queries per second:/ { qps = $4 }
	/Average Latency/ { avg = $4 * 1000; mx = $8; sub(/\)/, "", mx); mx *= 1000 }
	END {
		n = 0
		while ((getline l < latf) > 0) lat[++n] = l
		printf "%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%d\t%s\t%s\n",
		    round, cfg, qps, avg, pct(0.5), pct(0.9), pct(0.99),
		    pct(0.999), mx, sent, done, lost, n, rc, cpu
	}' cpu="$cpu" "$out.stats" >>"$RESULTS"
	rm -f "$out.lat"
	tail -1 "$RESULTS" | awk -F '\t' '{ printf "#   round %s %-8s %7s qps  avg %s ms  p99 %s ms  lost %s  %s  cpu0 %s%% cpu1 %s%% dnsperf %s%% dnsmasq %s%% safegated %s%%\n",
	    $1, $2, $3, $4, $7, $12, $14, $15, $17, $20, $21, $22 }' >&2
}

# perf_record SECONDS TAG: profiles safegated while a run goes on.
perf_record() {
	[ "$PERF" = 1 ] && command -v perf >/dev/null || return 0
	perf record -q -F 2000 -p "$SG_PID" -o "$T/perf-$2.data" -- sleep "$1" \
		>/dev/null 2>&1 &
	PERF_PID=$!
}
perf_report() {
	[ -n "${PERF_PID:-}" ] || return 0
	wait "$PERF_PID"
	PERF_PID=
	{
		perf report -i "$T/perf-$1.data" --stdio --sort dso 2>/dev/null |
			grep -v '^#' | grep -v '^$' | head -12
		echo
		perf report -i "$T/perf-$1.data" --stdio --sort dso,symbol \
			2>/dev/null | grep -v '^#' | grep -v '^$' |
			sed 's/[ -]*$//' | head -60
	} >"$BIN/bench-perf-$1.txt"
}

printf 'round\tconfig\tqps\tavg_ms\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tmax_ms\tsent\tcompleted\tlost\tlatencies\trcodes\tcpu0_busy\tcpu0_softirq\tcpu1_busy\tcpu1_softirq\tsteal\tdnsperf_cpu\tdnsmasq_cpu\tsafegated_cpu\n' >"$RESULTS"
printf 'round\tload_s\tnames\tvmrss_kb_loaded\tvmhwm_kb_loaded\tvmrss_kb_end\tvmhwm_kb_end\tset_bytes\tcfg\tpackets\tverdicts\taccept_allowed\tdrop_blocked\tdrop_other\tenobufs\tverdict_errors\tinject_errors\tkernel_dropped\tevents_written\n' >"$DAEMON"

if [ "$WARMUP" -gt 0 ]; then
	log "warm-up: ${WARMUP}s of dnsmasq alone, not recorded"
	in_lan $PIN_CLIENT dnsperf -s 10.77.0.1 -d "$T/allowed.queries" \
		-l "$WARMUP" -c "$CLIENTS" -q "$OUTSTANDING" -t 2 >/dev/null 2>&1
fi

for round in $(seq 1 "$ROUNDS"); do
	log "round $round of $ROUNDS"
	perf_run "$round" dnsmasq "$T/allowed.queries"

	sg_start || exit 1
	names=$(sed -n 's/.*: \([0-9]*\) entries in .*/\1/p' "$T/safegated.log" | head -1)
	rss_l=$(proc_kb "$SG_PID" VmRSS); hwm_l=$(proc_kb "$SG_PID" VmHWM)
	set_bytes=$(in_rtr "$BIN/safegatectl" -s "$SOCK" status |
		awk '$1 == "set_bytes" { print $2 }')
	log "  safegated: $names names, filtering after ${LOAD_S}s," \
	    "VmRSS $rss_l kB, VmHWM $hwm_l kB"
	kd0=$(nfq_dropped)
	stats_snap "$T/st0"
	[ "$round" = "$ROUNDS" ] && perf_record "$DURATION" allowed
	perf_run "$round" allowed "$T/allowed.queries"
	perf_report allowed
	stats_snap "$T/st1"; kd1=$(nfq_dropped)
	[ "$round" = "$ROUNDS" ] && perf_record "$DURATION" blocked
	perf_run "$round" blocked "$T/blocked.queries"
	perf_report blocked
	stats_snap "$T/st2"; kd2=$(nfq_dropped)
	rss_e=$(proc_kb "$SG_PID" VmRSS); hwm_e=$(proc_kb "$SG_PID" VmHWM)
	for pair in "allowed st0 st1 $kd0 $kd1" "blocked st1 st2 $kd1 $kd2"; do
		set -- $pair
		other=0
		for k in accept_not_dns accept_no_payload accept_response \
		    accept_no_question drop_malformed drop_fragment \
		    drop_tcp_partial drop_blocked_reset; do
			other=$((other + $(stats_delta "$T/$2" "$T/$3" $k)))
		done
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' \
		    "$round" "$LOAD_S" "$names" "$rss_l" "$hwm_l" "$rss_e" \
		    "$hwm_e" "$set_bytes" "$1" \
		    "$(stats_delta "$T/$2" "$T/$3" queue0_packets)" \
		    "$(stats_delta "$T/$2" "$T/$3" queue0_verdicts)" \
		    "$(stats_delta "$T/$2" "$T/$3" accept_allowed)" \
		    "$(stats_delta "$T/$2" "$T/$3" drop_blocked)" "$other" \
		    "$(stats_delta "$T/$2" "$T/$3" queue0_enobufs)" \
		    "$(stats_delta "$T/$2" "$T/$3" queue0_verdict_errors)" \
		    "$(stats_delta "$T/$2" "$T/$3" inject_errors)" \
		    "$(($5 - $4))" \
		    "$(stats_delta "$T/$2" "$T/$3" events_written)" >>"$DAEMON"
	done
	cp "$T/st2" "$BIN/bench-stats-round$round.txt"
	safegated_stop
	if [ -e "$T/events.jsonl" ]; then
		EVENT_BYTES=$(( $(wc -c <"$T/events.jsonl") /
		    $(wc -l <"$T/events.jsonl") ))
		rm -f "$T/events.jsonl"	# 230 bytes a blocked query
	fi
	if [ "$(rules_left)" != 0 ]; then
		echo "bench: safegate rules left after stop" >&2; exit 1
	fi
done

# Saturated runs measure mostly queueing; at a fixed rate well below what
# either path can serve, the latencies show what each path adds.
if [ "$RATE" -gt 0 ]; then
	log "fixed rate: $RATE queries a second"
	perf_run "rate$RATE" dnsmasq "$T/allowed.queries" -Q "$RATE"
	sg_start || exit 1
	perf_run "rate$RATE" allowed "$T/allowed.queries" -Q "$RATE"
	perf_run "rate$RATE" blocked "$T/blocked.queries" -Q "$RATE"
	safegated_stop
	rm -f "$T/events.jsonl"
fi

# ---------------------------------------------------------------- summary
{
	echo "safegate bench: $(date -u '+%Y-%m-%d %H:%M UTC'), $ROUNDS rounds of 1,2,3," \
	    "dnsperf -l $DURATION -c $CLIENTS -q $OUTSTANDING -t 2"
	echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	    "$(nproc) cores; kernel $(uname -r); pinning: $PINNING;" \
	    "event log: $([ "$EVENTS" = 1 ] && echo on || echo off)"
	echo "list: $LIST_NAMES names; allowed set $ALLOWED_Q queries" \
	    "($HOSTS_N distinct); blocked set $BLOCKED_Q queries (L+S)"
	echo
	awk -F '\t' '
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	# CPU time per query, in microseconds, from % of one core and qps.
	function us(pct, qps) {
		return pct == "-" || qps <= 0 ? "-" : sprintf("%.1fus", pct / 100 * 1e6 / qps)
	}
	NR == 1 { next }
	$1 !~ /^[0-9]+$/ { fixed[++nf] = $0; next }
	{
		r = $1; c = $2; q[r, c] = $3; row[r, c] = $0
		if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
		if (!(r in rs)) { rs[r] = 1; rounds[++nr] = r }
	}
	END {
		printf "%-5s %-12s %8s %6s %7s %7s %7s %7s %8s %8s %6s %9s %9s  %s\n",
		    "round", "config", "qps", "ratio", "avg_ms", "p50_ms",
		    "p90_ms", "p99_ms", "p99.9_ms", "max_ms", "lost",
		    "dnsmasq", "safegated", "rcodes"
		for (i = 1; i <= nr; i++)
			for (k = 1; k <= nc; k++) {
				r = rounds[i]; c = order[k]
				split(row[r, c], f, "\t")
				ratio = q[r, order[1]] > 0 ? q[r, c] / q[r, order[1]] : 0
				printf "%-5s %-12s %8d %6.3f %7.3f %7.3f %7.3f %7.3f %8.3f %8.3f %6d %9s %9s  %s\n",
				    r, k ": " c, f[3], ratio, f[4], f[5], f[6],
				    f[7], f[8], f[9], f[12], us(f[21], f[3]),
				    us(f[22], f[3]), f[14]
			}
		print ""
		printf "%-12s %8s %13s %13s %7s %7s %7s %8s\n", "median",
		    "qps", "ratio(rounds)", "ratio(median)", "avg_ms",
		    "p50_ms", "p99_ms", "p99.9_ms"
		for (k = 1; k <= nc; k++) {
			c = order[k]
			for (col = 3; col <= 8; col++) {
				for (i = 1; i <= nr; i++) {
					split(row[rounds[i], c], f, "\t"); a[i] = f[col] }
				m[col] = median(a, nr)
			}
			for (i = 1; i <= nr; i++)
				a[i] = q[rounds[i], c] / q[rounds[i], order[1]]
			mr = median(a, nr)
			for (i = 1; i <= nr; i++) a[i] = q[rounds[i], order[1]]
			m1 = median(a, nr)
			printf "%-12s %8d %13.3f %13.3f %7.3f %7.3f %7.3f %8.3f\n",
			    k ": " c, m[3], mr, m[3] / m1, m[4], m[5], m[7], m[8]
			goal[k] = mr
		}
		print ""
		if (nc >= 2)
			printf "goal: (2) keeps >= 90%% of (1): median ratio %.3f, %s\n",
			    goal[2], (goal[2] >= 0.9 ? "met" : "NOT met")
		if (nc >= 3)
			printf "goal: (3) beats (1): median ratio %.3f, %s\n",
			    goal[3], (goal[3] > 1 ? "met" : "NOT met")
		if (nf == 0) exit
		print ""
		split(fixed[1], f, "\t")
		printf "at a fixed rate (-Q %s), not saturated:\n", substr(f[1], 5)
		printf "%-12s %8s %7s %7s %7s %7s %8s %8s %6s %9s %9s\n",
		    "config", "qps", "avg_ms", "p50_ms", "p90_ms", "p99_ms",
		    "p99.9_ms", "max_ms", "lost", "dnsmasq", "safegated"
		for (i = 1; i <= nf; i++) {
			split(fixed[i], f, "\t")
			printf "%-12s %8d %7.3f %7.3f %7.3f %7.3f %8.3f %8.3f %6d %9s %9s\n",
			    i ": " f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9],
			    f[12], us(f[21], f[3]), us(f[22], f[3])
		}
	}' "$RESULTS"
	echo
	echo "safegated per round (counters are deltas over each run):"
	awk -F '\t' 'NR == 1 { next }
	{ printf "round %s %-7s load %.2fs names %s VmRSS %s kB (VmHWM %s) loaded, %s kB at end; set_bytes %s; packets %s verdicts %s accept_allowed %s drop_blocked %s other %s enobufs %s verdict_errors %s inject_errors %s kernel_dropped %s events %s\n",
	    $1, $9, $2, $3, $4, $5, $6, $8, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19 }' "$DAEMON"
	[ -n "${EVENT_BYTES:-}" ] && echo "event log: $EVENT_BYTES bytes a blocked query"
	awk -F '\t' 'NR > 1 && $12 > 0 { printf "WARNING: round %s config %s lost %s queries: not comparable\n", $1, $2, $12 }' "$RESULTS"
	# With fail_open a full queue lets packets past unseen, and no counter
	# says so: every query dnsperf sent must have reached safegated.
	awk -F '\t' 'FNR == 1 { next }
	    FILENAME == ARGV[1] { sent[$1, $2] = $10; next }
	    { seen++ }
	    $10 != sent[$1, $9] || $11 != $10 || $15 + $16 + $18 > 0 {
		bad++; printf "WARNING: round %s %s: dnsperf sent %s, safegated saw %s, gave %s verdicts (enobufs %s, verdict errors %s, kernel drops %s)\n",
		    $1, $9, sent[$1, $9], $10, $11, $15, $16, $18 }
	    END { if (seen && !bad) print "verdicts: every query dnsperf sent in runs 2 and 3 reached safegated and got exactly one verdict" }' \
	    "$RESULTS" "$DAEMON"
} | tee "$SUMMARY"
echo "# results: $RESULTS, $DAEMON, $SUMMARY"
