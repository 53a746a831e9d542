#!/usr/bin/env bash
# evlog.sh BUILD_DIR SHARED_DIR - the events file (issue 6), in two parts.
# bench/RESULTS.md ("Events file (issue 6)") says what the figures mean.
#
#  1. Throughput.  evlog-bench (bench/evlog_bench.c, linked with
#     libsafegate.a) puts N events into the real event log, ROUNDS rounds,
#     at each rate of RATES (max: closed loop, nothing lost; flood: as
#     fast as one thread puts; or events/s) and each fraction of critical
#     (fsynced) events of PERMILLES, with rotation at ROTATE bytes as
#     shipped; every run is verified with evlog_verify().  No root needed.
#  2. The digest beside the packet path.  The namespaces of the end-to-end
#     tests, dnsmasq and safegated on the router's core (CPU 1), dnsperf
#     from lan (CPU 0).  safegated's events file starts as LOG_EVENTS
#     generated events (evlog-bench gen: a family's week, rotated at
#     ROTATE bytes).  Each round runs, per query set, three phases in a
#     rotating order: "off", no digest; "on", `safegatectl report`
#     building the digest of that file over and over (pinned to
#     REPORT_CPU: by default the router's core); "nice", the same under
#     nice -n REPORT_NICE (chrt -i 0 if REPORT_NICE=idle).  It compares
#     dnsperf's latencies between them: blocked names at QRATE queries a
#     second (safegated answers them and writes an event each), allowed
#     names at QRATE (through safegated to dnsmasq), and with SAT=1
#     allowed names unpaced ("allowed-sat": throughput).  Needs root.
#
# Knobs (environment): PARTS (12: both; 1 or 2: one), ROUNDS (5), N
# (200000), RATES (max,flood,100000), PERMILLES (0,10,100,1000), BATCH (16
# puts per kick), ROTATE (10485760, the shipped rotate_size), EVDIR
# (/var/tmp: where part 1 writes; a disk, not tmpfs), LOG_EVENTS (500000),
# DIG_ROUNDS (3), PHASE (6 s a phase), QRATE (10000), SAT (1),
# REPORT_FORMAT (html), REPORT_CPU (1; "" unpinned), REPORT_NICE (19,
# idle for SCHED_IDLE; "" leaves the "nice" phases out), PIN (1).
#
# Output in BUILD_DIR: bench-evlog-raw.tsv (part 1, one row per run),
# bench-evlog-digest.tsv (part 2, one row per phase, with its UTC times),
# bench-evlog-safegated.txt (part 2: safegated's log lines about its
# events, and the chain's "lost" events, to set beside those times) and
# bench-evlog-summary.md (the tables printed at the end).
set -u

usage() { echo "usage: bench/evlog.sh BUILD_DIR SHARED_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
BIN=$(cd "$1" 2>/dev/null && pwd) ||
	{ echo "bench-evlog: no build folder $1 (run make first)" >&2; exit 1; }
SHARED=$(cd "$2" 2>/dev/null && pwd) ||
	{ echo "bench-evlog: no shared folder $2" >&2; exit 1; }
REPO=$(cd "$(dirname "$0")/.." && pwd)
QUERIES=$SHARED/lists/bench/queries-100k.txt
LABELS=$SHARED/lists/bench/queries-100k.labels
EB=$BIN/bench/evlog-bench

# lib.sh (below) sets N, T and others of its own: the knobs are read now.
PARTS=${PARTS:-12}
ROUNDS=${ROUNDS:-5}
EV_N=${N:-200000}
RATES=${RATES:-max,flood,100000}
PERMILLES=${PERMILLES:-0,10,100,1000}
BATCH=${BATCH:-16}
ROTATE=${ROTATE:-10485760}
EVDIR=${EVDIR:-/var/tmp}
LOG_EVENTS=${LOG_EVENTS:-500000}
DIG_ROUNDS=${DIG_ROUNDS:-3}
PHASE=${PHASE:-6}
QRATE=${QRATE:-10000}
SAT=${SAT:-1}
REPORT_FORMAT=${REPORT_FORMAT:-html}
REPORT_CPU=${REPORT_CPU-1}
REPORT_NICE=${REPORT_NICE-19}
PIN=${PIN:-1}

for f in "$BIN/libsafegate.a" "$BIN/safegated" "$BIN/safegatectl" \
    "$BIN/safegate-lists" "$QUERIES" "$LABELS"; do
	[ -e "$f" ] || { echo "bench-evlog: $f missing" >&2; exit 1; }
done

# evlog-bench, by the Makefile's rule, if it is missing or stale.
make -s -C "$REPO" BUILD="$BIN" "$EB" ||
	{ echo "bench-evlog: cannot build $EB" >&2; exit 1; }

# The namespaces and helpers of the end-to-end tests (net_up, in_lan,
# in_rtr, cleanup, which removes $T).  lib.sh finds the programs at
# $TOP/$BUILD: give it the absolute folder.
. "$REPO/tests/e2e/lib.sh"
TOP=""
BUILD=$BIN
EVT=
trap '[ -n "$EVT" ] && rm -rf "$EVT"; cleanup' EXIT
trap 'exit 130' INT TERM

log() { printf '# %s\n' "$*" >&2; }
now() { date +%s.%N; }

RAW=$BIN/bench-evlog-raw.tsv
DIG=$BIN/bench-evlog-digest.tsv
SUMMARY=$BIN/bench-evlog-summary.md
START=$(date -u '+%Y-%m-%d %H:%M UTC')
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
# REV (environment) names the code when this is no git checkout.
REV=${REV:-"$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(
	[ -n "$(git -C "$REPO" status --porcelain -- daemon 2>/dev/null)" ] &&
	echo ', daemon/ with uncommitted changes')"}

# The names of the listed (L) queries: the blocked names, one a line.
paste -d ' ' "$LABELS" "$QUERIES" >"$T/labelled"
awk '$1 == "L" && !seen[$2]++ { print $2 }' "$T/labelled" >"$T/blocked.domains"

# ---------------------------------------------------------------- part 1
P1=
if [ "${PARTS#*1}" != "$PARTS" ]; then
	EVT=$(mktemp -d "$EVDIR/safegate-evlog.XXXXXX") || exit 1
	FS=$(df -T "$EVT" | awk 'NR == 2 { print $2 }')
	[ "$FS" = tmpfs ] && log "WARNING: $EVDIR is tmpfs: fdatasync is free there"
	log "part 1: $ROUNDS rounds of $EV_N events, rates $RATES," \
	    "critical permille $PERMILLES, into $EVT ($FS)"
	P1=$("$EB" -b "$BATCH" -r "$ROTATE" -n "$T/blocked.domains" matrix \
	    "$EVT" "$EV_N" "$ROUNDS" "$RATES" "$PERMILLES" "$RAW")
	P1_STATUS=$?
	rm -rf "$EVT"
	EVT=
	printf '%s\n' "$P1" >&2
fi

# ---------------------------------------------------------------- part 2
P2=
if [ "${PARTS#*2}" != "$PARTS" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench-evlog: part 2 needs root" >&2; exit 1; }
	for tool in ip iptables dnsmasq dnsperf taskset; do
		command -v $tool >/dev/null || { echo "bench-evlog: $tool" \
		    "missing: run 'make deps'" >&2; exit 1; }
	done
	if [ "$PIN" = 1 ] && [ "$(nproc)" -ge 2 ]; then
		PIN_CLIENT="taskset -c 0"
		PIN_ROUTER="taskset -c 1"
	else
		PIN_CLIENT=""
		PIN_ROUTER=""
	fi
	PIN_REPORT=""
	[ -n "$REPORT_CPU" ] && PIN_REPORT="taskset -c $REPORT_CPU"
	SOCK=$T/control.sock

	awk '$1 == "L" { print $2 " A" }' "$T/labelled" >"$T/blocked.queries"
	awk '$1 == "U" { print $2 " A" }' "$T/labelled" >"$T/allowed.queries"
	awk '$1 == "U" && !seen[$2]++ { n++;
		printf "10.%d.%d.%d %s\n", 100 + int(n / 65536),
		    int(n / 256) % 256, n % 256, $2 }' "$T/labelled" >"$T/hosts"

	log "part 2: a log of $LOG_EVENTS events over 6 days"
	"$EB" -r "$ROTATE" -c 0 -n "$T/blocked.domains" gen "$T/events.jsonl" \
	    "$LOG_EVENTS" 6 >"$T/gen.out" ||
		{ cat "$T/gen.out" >&2; exit 1; }
	GEN_FILES=$(awk -F= '$1 == "files" { print $2 }' "$T/gen.out")
	GEN_BYTES=$(cat "$T/events.jsonl"* | wc -c)

	cat >"$T/safegate.conf" <<CONF
# safegated for the benchmark: the shipped defaults (events rotated at
# 10 MiB, kept 90 days), the L names of the query file blocked.
queue = { numbers = [ 0 ]; fail_open = true; max_len = 4096; };
firewall = { manage = true; backend = "iptables"; };
dns = { block_response = "nxdomain"; ttl = 300; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "bench"; files = [ "blocked.domains" ]; } );
block = [ "bench" ];
log = { events = "$T/events.jsonl"; level = "info"; rotate_size = $ROTATE; };
control = { socket = "$SOCK"; state = "$T/state"; };
CONF
	"$BIN/safegate-lists" compile -c "$T/safegate.conf" >"$T/compile.out" 2>&1 ||
		{ cat "$T/compile.out" >&2; exit 1; }

	net_up
	ip netns exec "$RTR" $PIN_ROUTER dnsmasq --keep-in-foreground \
		--no-resolv --no-hosts --addn-hosts="$T/hosts" \
		--listen-address=10.77.0.1 --bind-interfaces --user=root \
		--group=root --pid-file="$T/dnsmasq.pid" --local-ttl=60 \
		--cache-size=0 --log-facility="$T/dnsmasq.log" &
	echo $! >"$T/dnsmasq.bgpid"
	first=$(awk 'NR == 1 { print $1 }' "$T/allowed.queries")
	wait_dns in_lan dig +time=1 +tries=1 +short @10.77.0.1 "$first" A ||
		{ echo "bench-evlog: dnsmasq does not answer" >&2; exit 1; }

	# As run.sh's sg_start: safegated on the router's core.
	: >"$T/safegated.log"
	ip netns exec "$RTR" $PIN_ROUTER "$BIN/safegated" -f $SG_USER \
		-c "$T/safegate.conf" >>"$T/safegated.log" 2>&1 &
	SG_PID=$!
	for i in $(seq 1 500); do
		grep -q filtering "$T/safegated.log" && break
		kill -0 "$SG_PID" 2>/dev/null || break
		sleep 0.02
	done
	grep -q filtering "$T/safegated.log" ||
		{ cat "$T/safegated.log" >&2; exit 1; }

	# The digest alone, three times (the first warms the page cache);
	# time(1) measures taskset, which execs safegatectl.
	for i in 1 2 3; do
		/usr/bin/time -f '%e %M' -o "$T/alone.$i" $PIN_REPORT \
		    "$BIN/safegatectl" report -c "$T/safegate.conf" \
		    --format "$REPORT_FORMAT" -o /dev/null ||
			{ echo "bench-evlog: report failed" >&2; exit 1; }
	done
	ALONE=$(cat "$T/alone.2" "$T/alone.3" | awk '{ s += $1; if ($2 > m) m = $2 }
	    END { printf "%.2f s, max RSS %d kB", s / NR, m }')
	log "digest alone (2 runs, page cache warm): $ALONE"

	# prio NICE: the command that runs the digest at that priority.
	prio() {
		if [ "$1" = idle ]; then echo chrt -i 0; else echo nice -n "$1"; fi
	}
	# report_loop NICE: digests one after the other until $T/stop; the
	# one under way then is killed (by its pid) and not counted.
	report_loop() {
		local s pid rc
		while [ ! -e "$T/stop" ]; do
			s=$(now)
			$PIN_REPORT $(prio "$1") "$BIN/safegatectl" report \
			    -c "$T/safegate.conf" --format "$REPORT_FORMAT" \
			    -o /dev/null 2>>"$T/report.err" &
			pid=$!
			echo "$pid" >"$T/report.pid"
			wait "$pid"
			rc=$?
			[ -e "$T/stop" ] && break
			if [ "$rc" = 0 ]; then echo "$s $(now)" >>"$T/report.times"
			else echo "digest exit $rc" >>"$T/report.err"; fi
		done
	}
	stats_snap() { in_rtr "$BIN/safegatectl" -s "$SOCK" stats >"$1"; }
	stats_delta() {
		awk -v k="$3" '$1 == k { v[FILENAME] = $2 }
		    END { print v[ARGV[2]] - v[ARGV[1]] }' "$1" "$2"
	}
	ticks() { awk '{ print $14 + $15 }' "/proc/$SG_PID/stat"; }
	HZ=$(getconf CLK_TCK)

	printf 'round\tset\treport\tqps\tavg_ms\tp50_ms\tp90_ms\tp99_ms\tp999_ms\tmax_ms\tsent\tcompleted\tlost\tsafegated_us_per_query\tpackets\tverdicts\tevents_written\tevents_lost\treports\treport_s_mean\tstart_utc\tend_utc\n' >"$DIG"

	# phase ROUND SET off|on|nice QUERIES [DNSPERF ARGS...]
	phase() {
		local r=$1 set=$2 mode=$3 qf=$4 out=$T/p-$1-$2-$3 t0 t1 ts te rl=
		shift 4
		rm -f "$T/stop" "$T/report.times"
		if [ "$mode" != off ]; then
			if [ "$mode" = nice ]; then report_loop "$REPORT_NICE" &
			else report_loop 0 & fi
			rl=$!
			sleep 0.3	# the first digest is under way
		fi
		stats_snap "$out.st0"
		t0=$(ticks)
		ts=$(now)
		in_lan $PIN_CLIENT dnsperf -s 10.77.0.1 -d "$qf" -l "$PHASE" \
		    -c 4 -q 100 -t 2 -v "$@" >"$out.v" 2>"$out.err"
		t1=$(ticks)
		te=$(now)
		stats_snap "$out.st1"
		if [ -n "$rl" ]; then
			touch "$T/stop"
			kill "$(cat "$T/report.pid")" 2>/dev/null
			wait "$rl"
		fi
		sed -n '/^Statistics:/,$p' "$out.v" >"$out.stats"
		awk '$1 == ">" { print $NF }' "$out.v" | sort -g >"$out.lat"
		rm -f "$out.v"
		awk -v r="$r" -v set="$set" -v mode="$mode" -v latf="$out.lat" \
		    -v ticks=$((t1 - t0)) -v hz="$HZ" \
		    -v pk="$(stats_delta "$out.st0" "$out.st1" queue0_packets)" \
		    -v vd="$(stats_delta "$out.st0" "$out.st1" queue0_verdicts)" \
		    -v ew="$(stats_delta "$out.st0" "$out.st1" events_written)" \
		    -v el="$(stats_delta "$out.st0" "$out.st1" events_lost)" \
		    -v ts="$ts" -v te="$te" -v rtf="$T/report.times" '
		function utc(t,   c, l) { c = "date -u -d @" t " +%H:%M:%S.%N"
			c | getline l; close(c); return substr(l, 1, 12) }
		function pct(p,   i) { i = int(p * n + 0.999999); if (i < 1) i = 1
			return lat[i] * 1000 }
		/Queries sent:/ { sent = $3 }
		/Queries completed:/ { done = $3 }
		/Queries lost:/ { lost = $3 }
		/Queries per second:/ { qps = $4 }
		/Average Latency/ { avg = $4 * 1000; mx = $8; sub(/\)/, "", mx); mx *= 1000 }
		END {
			n = 0
			while ((getline l < latf) > 0) lat[++n] = l
			nr = 0; rs = 0
			while ((getline l < rtf) > 0) {
				split(l, a, " ")
				if (a[1] < te) { nr++; rs += a[2] - a[1] }
			}
			printf "%s\t%s\t%s\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%.3f\t%d\t%d\t%d\t%.1f\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n",
			    r, set, mode, qps, avg, pct(0.5), pct(0.9), pct(0.99),
			    pct(0.999), mx, sent, done, lost,
			    (done > 0 ? ticks / hz * 1e6 / done : 0), pk, vd, ew, el,
			    nr, (nr ? sprintf("%.2f", rs / nr) : "-"),
			    utc(ts), utc(te)
		}' "$out.stats" >>"$DIG"
		rm -f "$out.lat"
		tail -1 "$DIG" | awk -F '\t' '{ printf "#   round %s %-12s digest %-3s %6s qps  avg %s  p50 %s  p99 %s  p99.9 %s ms  lost %s  safegated %s us/q  digests %s (%s s)\n",
		    $1, $2, $3, $4, $5, $6, $8, $9, $13, $14, $19, $20 }' >&2
	}

	SETS="blocked allowed"
	[ "$SAT" = 1 ] && SETS="$SETS allowed-sat"
	MODES="off on"
	[ -n "$REPORT_NICE" ] && MODES="$MODES nice"
	NMODES=$(echo $MODES | wc -w)
	for r in $(seq 1 "$DIG_ROUNDS"); do
		log "digest round $r of $DIG_ROUNDS"
		for set in $SETS; do
			case $set in
			blocked) qf=$T/blocked.queries; args="-Q $QRATE" ;;
			allowed) qf=$T/allowed.queries; args="-Q $QRATE" ;;
			*) qf=$T/allowed.queries; args="" ;;
			esac
			# the modes, rotated by one each round
			order=$(echo $MODES $MODES | cut -d' ' \
			    -f$(( (r - 1) % NMODES + 1 ))-$(( (r - 1) % NMODES + NMODES )))
			for mode in $order; do
				phase "$r" "$set" "$mode" "$qf" $args
			done
		done
	done
	stats_snap "$T/st-end"
	safegated_stop
	# What the writer said (a full queue, rotations), and the "lost"
	# events of the chain, to read beside the phases' times.
	{
		grep -E 'events' "$T/safegated.log"
		cat "$T"/events.jsonl* | grep '"action":"lost"'
	} >"$BIN/bench-evlog-safegated.txt"
	"$BIN/safegatectl" -c "$T/safegate.conf" verify-log >"$T/verify.out" 2>&1
	VRC=$?
	VERIFY="$(tail -1 "$T/verify.out") (exit $VRC)"
	END_FILES=$(ls "$T"/events.jsonl* | wc -l)
	END_BYTES=$(cat "$T"/events.jsonl* | wc -c)
	REPORT_ERRS=$(grep -c . "$T/report.err" 2>/dev/null || true)

	P2=$(
	echo "Digest beside the packet path: $DIG_ROUNDS rounds; each phase" \
	    "dnsperf -l $PHASE -c 4 -q 100 -t 2 (-Q $QRATE for blocked and" \
	    "allowed, unpaced for allowed-sat); digest: safegatectl report" \
	    "--format $REPORT_FORMAT, pinned to CPU ${REPORT_CPU:-none}, at" \
	    "nice 0 (\"on\")${REPORT_NICE:+ and nice $REPORT_NICE (\"nice\")};" \
	    "modes in the order $MODES, rotated by one each round."
	echo "Log at the start: $LOG_EVENTS generated events in $GEN_FILES" \
	    "files, $GEN_BYTES bytes; at the end: $END_FILES files," \
	    "$END_BYTES bytes. Digest alone at the start: $ALONE."
	echo "verify-log after the runs: $VERIFY; digest errors: ${REPORT_ERRS:-0}."
	echo
	awk -F '\t' -v nice="$REPORT_NICE" '
	function median(s,   n, a, i, j, t) {
		n = split(s, a, " ")
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function range(s,   n, a, i, lo, hi) {
		n = split(s, a, " "); lo = hi = a[1]
		for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]
			if (a[i] + 0 > hi + 0) hi = a[i] }
		return sprintf("%.2f-%.2f", lo, hi)
	}
	# "median (median of per-round ratios to off, their range)"
	function cell(s, m, c,   r, a, b, rl) {
		if (!((s, m, c) in v)) return "-"
		if (m == "off") return sprintf("%.3f", median(v[s, m, c]))
		rl = ""
		for (r = 1; r <= nr; r++) {
			split(row[r, s, "off"], a, "\t")
			split(row[r, s, m], b, "\t")
			if (a[c] > 0) rl = rl " " b[c] / a[c]
		}
		return sprintf("%.3f (**%.2f**, %s)", median(v[s, m, c]),
		    median(rl), range(rl))
	}
	NR == 1 { next }
	{
		if (!($2 in seen)) { seen[$2] = 1; order[++ns] = $2 }
		for (c = 4; c <= 14; c++) v[$2, $3, c] = v[$2, $3, c] " " $c
		row[$1, $2, $3] = $0
		if ($13 > 0) lostq[$2] += $13
		if ($11 != $15 || $15 != $16 || $18 > 0) bad = bad sprintf("round %s %s %s: sent %s, packets %s, verdicts %s, events lost %s\n", $1, $2, $3, $11, $15, $16, $18)
		if ($3 != "off") { dg[$2, $3] += $19
			if ($20 != "-") ds[$2, $3] = ds[$2, $3] " " $20 }
		if ($1 > nr) nr = $1
	}
	END {
		name[4] = "qps"; name[5] = "avg ms"; name[6] = "p50 ms"
		name[8] = "p99 ms"; name[9] = "p99.9 ms"; name[10] = "max ms"
		name[14] = "safegated CPU us/query"
		printf "| set | measure | no digest | digest at nice 0 (with/without, range) |"
		if (nice != "") printf " digest at nice %s (with/without, range) |", nice
		printf "\n|---|---|---:|---:|%s\n", nice != "" ? "---:|" : ""
		for (i = 1; i <= ns; i++) {
			s = order[i]
			for (c = 4; c <= 14; c++) {
				if (!(c in name) || (c == 4 && s != "allowed-sat"))
					continue
				printf "| %s | %s | %s | %s |", s, name[c],
				    cell(s, "off", c), cell(s, "on", c)
				if (nice != "") printf " %s |", cell(s, "nice", c)
				printf "\n"
			}
			printf "| %s | digests built in the phases (median s each) | - | %d (%s s) |",
			    s, dg[s, "on"], (ds[s, "on"] == "" ? "-" : sprintf("%.2f", median(ds[s, "on"])))
			if (nice != "") printf " %d (%s s) |", dg[s, "nice"],
			    (ds[s, "nice"] == "" ? "-" : sprintf("%.2f", median(ds[s, "nice"])))
			printf "\n"
		}
		print ""
		for (s in lostq) printf "WARNING: %s: dnsperf lost %d queries\n", s, lostq[s]
		if (bad != "") printf "WARNING: not every query crossed safegated once:\n%s", bad
		else print "verdicts: in every phase, every query dnsperf sent reached safegated and got one verdict; no event lost"
	}' "$DIG"
	)
	printf '%s\n' "$P2" >&2
fi

# ---------------------------------------------------------------- summary
{
	echo "evlog bench at $REV, $START; load average (1, 5, 15 min) at" \
	    "the start: $LOAD0, at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
	echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)," \
	    "$(nproc) vCPUs; kernel $(uname -r)."
	if [ -n "$P1" ]; then
		echo
		echo "Part 1: evlog-bench -b $BATCH -r $ROTATE -n NAMES matrix DIR" \
		    "$EV_N $ROUNDS $RATES $PERMILLES RAW (DIR in $EVDIR, $FS)"
		echo
		printf '%s\n' "$P1"
	fi
	if [ -n "$P2" ]; then
		echo
		echo "Part 2:"
		echo
		printf '%s\n' "$P2"
	fi
} >"$SUMMARY"
cat "$SUMMARY"
echo "# results: $SUMMARY${P1:+, $RAW}${P2:+, $DIG}" >&2
[ "${P1_STATUS:-0}" = 0 ]
