#!/usr/bin/env bash
# lists.sh BUILD_DIR SHARED_DIR - compiled domain sets (sgdb) at 1M and 2M
# names: compile time and peak memory, file size, open time, lookup cost
# (TSC-timed and callgrind-counted), the memory of a process using the set;
# and dnsmasq and unbound loading the same names, for their start-up time
# and memory.  Prints a markdown block; bench/RESULTS.md ("Compiled sets")
# says what the figures mean.
#
# Inputs, from SHARED_DIR/lists/bench: union-1m.domains.xz (decompressed
# into a temporary folder, deleted on exit: CC BY-SA data, never copied
# into the repository), queries-100k.txt and queries-100k.labels.  The 2M
# set is the 1M names plus each again under a prefix label (lists-bench gen
# checks that no added name is one of the originals).
#
# Knobs (environment): ROUNDS (3): compiles per size, lookup passes per set,
# and dnsmasq/unbound starts per size; OPENS (21) opens per size; PIN (1:
# the bench and the servers on CPU 1, the start-up probe on CPU 0);
# CALLGRIND (1) and CG_N (20000) lookups per callgrind run; SERVERS (1:
# start dnsmasq and unbound; 0: skip).  Needs no root.
#
# Output: BUILD_DIR/bench-lists-raw.txt (every key=value the runs printed)
# and BUILD_DIR/bench-lists-summary.md (the block printed at the end).
set -eu

usage() { echo "usage: bench/lists.sh BUILD_DIR SHARED_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
BIN=$(cd "$1" && pwd) || exit 1
SHARED=$(cd "$2" 2>/dev/null && pwd) ||
	{ echo "bench-lists: no shared folder $2" >&2; exit 1; }
LISTS=$SHARED/lists/bench
LB=$BIN/bench/lists-bench
TOP=$(cd "$(dirname "$0")/.." && pwd)

ROUNDS=${ROUNDS:-3}
OPENS=${OPENS:-21}
PIN=${PIN:-1}
CALLGRIND=${CALLGRIND:-1}
CG_N=${CG_N:-20000}
SERVERS=${SERVERS:-1}
DNSMASQ_PORT=${DNSMASQ_PORT:-5399}
UNBOUND_PORT=${UNBOUND_PORT:-5398}

for f in "$LB" "$LISTS/union-1m.domains.xz" "$LISTS/queries-100k.txt" \
    "$LISTS/queries-100k.labels"; do
	[ -e "$f" ] || { echo "bench-lists: $f missing" >&2; exit 1; }
done
for tool in xz awk; do
	command -v $tool >/dev/null ||
		{ echo "bench-lists: $tool missing: run 'make deps'" >&2; exit 1; }
done
if [ "$CALLGRIND" = 1 ] && ! command -v valgrind >/dev/null; then
	echo "bench-lists: no valgrind, skipping callgrind" >&2
	CALLGRIND=0
fi
if [ "$SERVERS" = 1 ]; then
	for tool in dnsmasq unbound; do
		command -v $tool >/dev/null || PATH=$PATH:/usr/sbin
		command -v $tool >/dev/null ||
			{ echo "bench-lists: $tool missing" >&2; exit 1; }
	done
fi
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	RUN="taskset -c 1"
	PROBE="taskset -c 0"
	PINNING="lists-bench and the servers on CPU 1, the start-up probe on CPU 0"
else
	RUN=""
	PROBE=""
	PINNING="none"
fi
TIMEV=""
[ -x /usr/bin/time ] && TIMEV="/usr/bin/time -f maxrss_time_kb=%M -a -o"

LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
T=$(mktemp -d /tmp/safegate-lists-bench.XXXXXX)
trap 'rm -rf "$T"' EXIT
RAW=$BIN/bench-lists-raw.txt
SUMMARY=$BIN/bench-lists-summary.md
: >"$RAW"

log() { echo "bench-lists: $*" >&2; }

# run TAG CMD...: runs CMD, keeps its key=value lines in $T/TAG and RAW.
run() {
	local tag=$1
	shift
	"$@" >"$T/$tag" 2>"$T/$tag.err" || {
		log "failed: $*"
		tail -5 "$T/$tag.err" >&2
		exit 1
	}
	sed "s/^/$tag /" "$T/$tag" >>"$RAW"
}

# kv FILE KEY: the value of KEY= in FILE (the first one).
kv() { sed -n "s/^$2=//p" "$1" | head -1; }

# setv FILE SET FIELD: FIELD= on the "set=SET" line.
setv() {
	awk -v s="set=$2" -v f="$3=" '$1 == s {
		for (i = 2; i <= NF; i++) if (index($i, f) == 1) {
			print substr($i, length(f) + 1); exit } }' "$1"
}

# median of numbers on stdin
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-";
	    else if (NR % 2) print v[(NR + 1) / 2];
	    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ---------------------------------------------------------------- inputs
log "decompressing the list and generating the inputs"
xz -dc "$LISTS/union-1m.domains.xz" >"$T/1m.domains"
run gen $LB gen "$T/1m.domains" "$LISTS/queries-100k.txt" \
    "$LISTS/queries-100k.labels" "$T"
SETS="q-hits q-miss q-5label q-5miss q-coldmiss"

# ---------------------------------------------------------------- compile
for size in 1m 2m; do
	for r in $(seq "$ROUNDS"); do
		log "$size: compile round $r"
		rm -f "$T/time.$size.$r"
		run "compile.$size.$r" $RUN $TIMEV "$T/time.$size.$r" \
		    $LB compile-file "$T/$size.sgdb" "$T/$size.domains"
		[ -n "$TIMEV" ] && cat "$T/time.$size.$r" >>"$T/compile.$size.$r"
		run "direct.$size.$r" $RUN $LB compile-direct "$T/$size.domains"
	done
	log "$size: open x$OPENS, lookups x$ROUNDS"
	run "open.$size" $RUN $LB open "$T/$size.sgdb" "$OPENS"
	run "lookup.$size" $RUN $LB lookup "$T/$size.sgdb" "$ROUNDS" \
	    $(for s in $SETS; do echo "$T/$s"; done)
done
log "1m + 10k confidential hashes"
run compile.conf $RUN $LB compile-file "$T/conf.sgdb" "$T/1m.domains" \
    "$T/conf-10k.hashes"
run lookup.conf $RUN $LB lookup "$T/conf.sgdb" "$ROUNDS" \
    $(for s in $SETS q-conf; do echo "$T/$s"; done)

# ---------------------------------------------------------------- callgrind
# Ir of sgdb_lookup, inclusive (its callees: SHA-256), over CG_N lookups.
cg() {
	local db=$1 set=$2 out=$T/cg.out
	rm -f "$out"
	valgrind --tool=callgrind --callgrind-out-file="$out" \
	    $LB callgrind "$T/$db.sgdb" "$T/$set" "$CG_N" >/dev/null 2>&1 ||
		{ log "callgrind failed"; exit 1; }
	callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
	    awk -v n="$CG_N" '/[:]sgdb_lookup[ ]/ { gsub(",", "", $1);
		printf "%.0f\n", $1 / n; exit }'
}
if [ "$CALLGRIND" = 1 ]; then
	for db in 1m 2m conf; do
		for s in $SETS $( [ $db = conf ] && echo q-conf ); do
			log "callgrind $db $s"
			echo "ir_per_lookup.$db.$s=$(cg $db $s)" >>"$T/cg"
		done
	done
	sed 's/^/callgrind /' "$T/cg" >>"$RAW"
fi
ir() { [ -f "$T/cg" ] && sed -n "s/^ir_per_lookup\.$1\.$2=//p" "$T/cg" || echo -; }

# ---------------------------------------------------------------- servers
# The same names as dnsmasq "address=/NAME/" (NXDOMAIN for the name and
# below) and unbound "local-zone: NAME. always_nxdomain".  Start-up is
# from fork+exec until a query for a listed name is answered.
if [ "$SERVERS" = 1 ]; then
	for size in 1m 2m; do
		awk '{ print "address=/" $0 "/" }' "$T/$size.domains" \
		    >"$T/dnsmasq.$size.conf"
		{
			printf 'server:\n  interface: 127.0.0.1\n'
			printf '  port: %s\n  do-daemonize: no\n' "$UNBOUND_PORT"
			printf '  chroot: ""\n  username: ""\n  pidfile: ""\n'
			printf '  directory: "%s"\n  use-syslog: no\n' "$T"
			printf '  logfile: ""\n  do-ip6: no\n  num-threads: 1\n'
			awk '{ print "  local-zone: \"" $0 ".\" always_nxdomain" }' \
			    "$T/$size.domains"
			printf 'remote-control:\n  control-enable: no\n'
		} >"$T/unbound.$size.conf"
		probe=$(head -1 "$T/1m.domains")
		for r in $(seq "$ROUNDS"); do
			log "$size: dnsmasq and unbound, start $r"
			run "dnsmasq.$size.$r" $PROBE $LB startup "$DNSMASQ_PORT" \
			    "$probe" $RUN dnsmasq --no-daemon \
			    --conf-file="$T/dnsmasq.$size.conf" \
			    --port="$DNSMASQ_PORT" --listen-address=127.0.0.1 \
			    --bind-interfaces --no-resolv --no-hosts --pid-file= \
			    --user=root --group=root --log-facility="$T/dnsmasq.log"
			run "unbound.$size.$r" $PROBE $LB startup "$UNBOUND_PORT" \
			    "$probe" $RUN unbound -d -c "$T/unbound.$size.conf"
		done
	done
fi

# ---------------------------------------------------------------- summary
# med TAGPREFIX KEY: the median of KEY over the rounds of TAGPREFIX.
med() {
	for r in $(seq "$ROUNDS"); do
		[ -f "$T/$1.$r" ] && kv "$T/$1.$r" "$2"
	done | median
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" ||
    b == 0) print "-"; else printf "%.1f\n", a / b }'; }
mib() { awk -v k="$1" 'BEGIN { if (k == "-" || k == "") print "-";
    else printf "%.1f MiB\n", k / 1024 }'; }

commit=$(cd "$TOP" && git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(cd "$TOP" && git status --porcelain 2>/dev/null | grep -q . &&
    echo ", uncommitted changes" || true)
{
echo "Compiled sets at \`$commit\`$dirty, $(date -u '+%Y-%m-%d %H:%M UTC');"
echo "ROUNDS=$ROUNDS OPENS=$OPENS CG_N=$CG_N; pinning: $PINNING."
echo "Load average (1, 5, 15 min) at the start: $LOAD0; at the end:" \
    "$(cut -d' ' -f1-3 /proc/loadavg)."
echo "TSC: $(kv "$T/lookup.1m" tsc_ghz) GHz, timer bracket" \
    "$(kv "$T/lookup.1m" tsc_overhead_ns) ns (subtracted)."
echo
echo "| | 1M | 2M |"
echo "|---|---:|---:|"
row() { echo "| $1 | $2 | $3 |"; }
row "names (entries in the set)" "$(med compile.1m entries)" \
    "$(med compile.2m entries)"
row "compile_lists(), read + parse + build + check, median s" \
    "$(med compile.1m compile_s)" "$(med compile.2m compile_s)"
row "builder only (add + finish, names in memory), median s" \
    "$(med direct.1m compile_direct_s)" "$(med direct.2m compile_direct_s)"
row "sgdb_write() (fsync), median s" "$(med compile.1m write_s)" \
    "$(med compile.2m write_s)"
row "compile peak RSS (compile_lists, /usr/bin/time)" \
    "$(mib "$(med compile.1m maxrss_time_kb)")" \
    "$(mib "$(med compile.2m maxrss_time_kb)")"
row "builder-only peak RSS (names held in memory too)" \
    "$(mib "$(med direct.1m maxrss_kb)")" "$(mib "$(med direct.2m maxrss_kb)")"
row "file bytes" "$(med compile.1m bytes)" "$(med compile.2m bytes)"
row "bytes per entry" "$(med compile.1m bytes_per_entry)" \
    "$(med compile.2m bytes_per_entry)"
for c in warm cold; do
	row "sgdb_open(), $c, median of $OPENS ms (min-max)" \
	    "$(kv "$T/open.1m" open_${c}_ms) ($(kv "$T/open.1m" open_${c}_min_ms)-$(kv "$T/open.1m" open_${c}_max_ms))" \
	    "$(kv "$T/open.2m" open_${c}_ms) ($(kv "$T/open.2m" open_${c}_min_ms)-$(kv "$T/open.2m" open_${c}_max_ms))"
done
for s in $SETS; do
	cell() {
		f=$T/lookup.$1
		echo "$(setv "$f" $s med_ns) / $(setv "$f" $s p99_ns)" \
		    "(batch mean $(setv "$f" $s batch_mean_ns); $(ir $1 $s) Ir)"
	}
	row "lookup $s ($(setv "$T/lookup.1m" $s n) names, $(setv "$T/lookup.1m" $s hits) hit at 1M): median / p99 ns" \
	    "$(cell 1m)" "$(cell 2m)"
done
row "lookup process VmRSS after open + lookups (RssFile: shared page cache)" \
    "$(mib "$(kv "$T/lookup.1m" rss_kb)") ($(mib "$(kv "$T/lookup.1m" rss_file_kb)"))" \
    "$(mib "$(kv "$T/lookup.2m" rss_kb)") ($(mib "$(kv "$T/lookup.2m" rss_file_kb)"))"
row "the same process before sgdb_open() (queries loaded)" \
    "$(mib "$(kv "$T/lookup.1m" rss_base_kb)")" \
    "$(mib "$(kv "$T/lookup.2m" rss_base_kb)")"
if [ "$SERVERS" = 1 ]; then
	for srv in dnsmasq unbound; do
		row "$srv start-up (exec to first answer), median ms" \
		    "$(med $srv.1m startup_ms)" "$(med $srv.2m startup_ms)"
		row "$srv VmRSS after start-up, median" \
		    "$(mib "$(med $srv.1m rss_kb)")" "$(mib "$(med $srv.2m rss_kb)")"
	done
	for srv in dnsmasq unbound; do
		row "$srv start-up / safegate open (warm)" \
		    "$(ratio "$(med $srv.1m startup_ms)" "$(kv "$T/open.1m" open_warm_ms)")x" \
		    "$(ratio "$(med $srv.2m startup_ms)" "$(kv "$T/open.2m" open_warm_ms)")x"
		row "$srv VmRSS / safegate process VmRSS" \
		    "$(ratio "$(med $srv.1m rss_kb)" "$(kv "$T/lookup.1m" rss_kb)")x" \
		    "$(ratio "$(med $srv.2m rss_kb)" "$(kv "$T/lookup.2m" rss_kb)")x"
		row "$srv VmRSS / set file size" \
		    "$(ratio "$(med $srv.1m rss_kb)" "$(awk -v b="$(med compile.1m bytes)" 'BEGIN{print b/1024}')")x" \
		    "$(ratio "$(med $srv.2m rss_kb)" "$(awk -v b="$(med compile.2m bytes)" 'BEGIN{print b/1024}')")x"
	done
fi
echo
echo "With a confidential category of $(kv "$T/gen" conf_names) SHA-256 entries" \
    "beside the 1M names ($(kv "$T/compile.conf" bytes) bytes," \
    "compile_lists() $(kv "$T/compile.conf" compile_s) s):"
echo
echo "| query set | median / p99 ns | batch mean ns | Ir per lookup | same set without it (median) |"
echo "|---|---:|---:|---:|---:|"
for s in $SETS q-conf; do
	f=$T/lookup.conf
	echo "| $s ($(setv "$f" $s hits) of $(setv "$f" $s n) hit) |" \
	    "$(setv "$f" $s med_ns) / $(setv "$f" $s p99_ns) |" \
	    "$(setv "$f" $s batch_mean_ns) | $(ir conf $s) |" \
	    "$( [ $s = q-conf ] && echo - || setv "$T/lookup.1m" $s med_ns) |"
done
} | tee "$SUMMARY"
