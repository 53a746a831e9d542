#!/usr/bin/env bash
# conn.sh BUILD_DIR SHARED_DIR - what judging connections by their names
# costs (issue 4), in three parts.  bench/RESULTS.md ("Connections (issue
# 4)") says what the figures mean.
#
#  1. replay: safegated --replay FILE --json (to /dev/null) against
#     ndpiReader -i FILE -v 0 -q on the same files: the 62 captures of
#     SHARED_DIR/corpus/pcap one process each, and one synthetic capture,
#     the corpus COPIES times over with each copy's addresses rewritten so
#     that its flows are distinct (replay-bench mix).  Both on CPU 1.
#  2. download: one SIZE_MB download (curl in lan, python3 http.server in
#     wan, a sparse file) through the router, rounds alternating without
#     and with safegated, which queues the first packets of each
#     connection (the rules of tests/e2e/conn.sh).
#  3. handshakes: new TLS connections a second through the router, without
#     and with safegated: openssl s_time -new (sends no SNI) and a python3
#     loop of handshakes that send SNI allowed.test, against openssl
#     s_server -www (P-256 key) in wan.
#
# Knobs (environment): ROUNDS (5) replay rounds; COPIES (400) copies of the
# corpus in the synthetic capture; NET_ROUNDS (5) rounds of parts 2 and 3;
# SIZE_MB (1000); TLS_TIME (10) seconds per handshake run; PIN (1).
# Needs root (namespaces, NFQUEUE).
#
# Output: BUILD_DIR/bench-conn-raw.tsv (one row per run) and
# BUILD_DIR/bench-conn-summary.md (the tables printed at the end).
set -u

usage() { echo "usage: bench/conn.sh BUILD_DIR SHARED_DIR" >&2; exit 2; }
[ $# -eq 2 ] || usage
BIN=$(cd "$1" && pwd) || exit 1
SHARED=$(cd "$2" 2>/dev/null && pwd) ||
	{ echo "bench-conn: no shared folder $2" >&2; exit 1; }
CORPUS=$SHARED/corpus/pcap
REPO=$(cd "$(dirname "$0")/.." && pwd)
RB=$BIN/bench/replay-bench

ROUNDS=${ROUNDS:-5}
COPIES=${COPIES:-400}
NET_ROUNDS=${NET_ROUNDS:-5}
SIZE_MB=${SIZE_MB:-1000}
TLS_TIME=${TLS_TIME:-10}
PIN=${PIN:-1}

[ "$(id -u)" = 0 ] || { echo "bench-conn: needs root" >&2; exit 1; }
for f in "$RB" "$BIN/safegated" "$BIN/safegatectl" "$BIN/safegate-lists"; do
	[ -x "$f" ] || { echo "bench-conn: $f missing" >&2; exit 1; }
done
[ -d "$CORPUS" ] || { echo "bench-conn: $CORPUS missing" >&2; exit 1; }
# python3: the HTTP server and the SNI handshake loop; ndpiReader: the
# peer (Debian package libndpi-bin).
for tool in python3 ndpiReader openssl curl ip iptables awk; do
	command -v $tool >/dev/null ||
		{ echo "bench-conn: $tool missing: run 'make deps'" >&2; exit 1; }
done
if [ "$PIN" = 1 ] && command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
	RUN="taskset -c 1"
	PINNING="replays on CPU 1; parts 2 and 3 not pinned"
else
	RUN=""
	PINNING="none"
fi

# The namespaces and helpers of the end-to-end tests.  lib.sh finds the
# programs at $TOP/$BUILD; give it the absolute folder.
. "$REPO/tests/e2e/lib.sh"
TOP=""
BUILD=$BIN
trap cleanup EXIT

RAW=$BIN/bench-conn-raw.tsv
SUMMARY=$BIN/bench-conn-summary.md
printf 'part\tround\tconfig\tfile\tseconds\tpackets\tflows\textra\n' >"$RAW"
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
START=$(date -u '+%Y-%m-%d %H:%M UTC')

# A config that blocks a small list; lists_db in the temporary folder.
printf '%s\n' '# reserved and sample names' blocked.test example.com \
	google.de discord.com >"$T/conn.domains"
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 11 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "benchcat"; files = [ "conn.domains" ]; } );
block = [ "benchcat" ];
log = { level = "warn"; };
control = { socket = "$T/control.sock"; };
CONF
"$BIN/safegate-lists" compile -c "$T/sg.conf" -o "$T/lists.sgdb" >/dev/null ||
	{ echo "bench-conn: compile failed" >&2; exit 1; }

now() { date +%s.%N; }
# elapsed CMD...: runs it, prints the wall seconds.
elapsed() {
	local t0 t1
	t0=$(now); "$@"; t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }'
}
corpus_sg() {
	local f
	for f in "$CORPUS"/*; do
		$RUN "$BIN/safegated" -r "$f" --json -c "$T/sg.conf" \
			>/dev/null 2>>"$T/sg-corpus.err"
	done
}
corpus_ndpi() {
	local f
	for f in "$CORPUS"/*; do
		$RUN ndpiReader -i "$f" -v 0 -q >/dev/null 2>&1
	done
}
mix_sg() {
	$RUN "$BIN/safegated" -r "$T/mix.pcap" --json -c "$T/sg.conf" \
		>/dev/null 2>&1
}
mix_ndpi() { $RUN ndpiReader -i "$T/mix.pcap" -v 0 -q >/dev/null 2>&1; }

# ------------------------------------------------------------ 1. replay
echo "bench-conn: building the synthetic capture ($COPIES copies)" >&2
"$RB" mix "$T/mix.pcap" "$COPIES" "$CORPUS"/* >/dev/null || exit 1
eval "$("$RB" count "$T/mix.pcap" | sed 's/^/MIX_/')"
CORPUS_FRAMES=0
CORPUS_PACKETS=0
CORPUS_FLOWS=0
for f in "$CORPUS"/*; do
	eval "$("$RB" count "$f" | sed 's/^/C_/')"
	CORPUS_PACKETS=$((CORPUS_PACKETS + C_packets))
	CORPUS_FLOWS=$((CORPUS_FLOWS + C_flows))
done
NFILES=$(ls "$CORPUS" | wc -l)
cat "$T/mix.pcap" >/dev/null	# into the page cache
"$BIN/safegated" -r "$T/mix.pcap" --json -c "$T/sg.conf" 2>"$T/sg-mix.err" |
	wc -l >"$T/sg-mix.lines"
ndpiReader -i "$T/mix.pcap" -v 0 >"$T/ndpi-mix.out" 2>&1

for r in $(seq 1 "$ROUNDS"); do
	: >"$T/sg-corpus.err"
	s=$(elapsed corpus_sg)
	printf 'replay\t%d\tsafegated\tcorpus\t%s\t%d\t%d\t\n' "$r" "$s" \
		"$CORPUS_PACKETS" "$CORPUS_FLOWS" >>"$RAW"
	s=$(elapsed corpus_ndpi)
	printf 'replay\t%d\tndpiReader\tcorpus\t%s\t%d\t%d\t\n' "$r" "$s" \
		"$CORPUS_PACKETS" "$CORPUS_FLOWS" >>"$RAW"
	s=$(elapsed mix_sg)
	printf 'replay\t%d\tsafegated\tmix\t%s\t%d\t%d\t\n' "$r" "$s" \
		"$MIX_packets" "$MIX_flows" >>"$RAW"
	s=$(elapsed mix_ndpi)
	printf 'replay\t%d\tndpiReader\tmix\t%s\t%d\t%d\t\n' "$r" "$s" \
		"$MIX_packets" "$MIX_flows" >>"$RAW"
	echo "bench-conn: replay round $r done" >&2
done
rm -f "$T/mix.pcap"

# ------------------------------------------------- 2 and 3. the router
net_up
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-days 1 -subj /CN=wan.test -keyout "$T/key.pem" -out "$T/cert.pem" \
	>/dev/null 2>&1
mkdir -p "$T/www"
truncate -s "${SIZE_MB}M" "$T/www/big"
echo "hello from wan" >"$T/www/index.html"
in_wan openssl s_server -accept 443 -www -cert "$T/cert.pem" \
	-key "$T/key.pem" -quiet >"$T/s_server.log" 2>&1 &
echo $! >"$T/s_server.bgpid"
in_wan python3 -m http.server 80 --bind 10.78.0.2 --directory "$T/www" \
	>"$T/http.log" 2>&1 &
echo $! >"$T/http.bgpid"
cat >"$T/hs.py" <<'PY'
import socket, ssl, sys, time
host, name, dur = sys.argv[1], sys.argv[2], float(sys.argv[3])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
n = 0
t0 = time.monotonic()
while time.monotonic() - t0 < dur:
    s = socket.create_connection((host, 443))
    t = ctx.wrap_socket(s, server_hostname=name)
    t.close()
    n += 1
print("%d %.4f" % (n, time.monotonic() - t0))
PY
wait_dns in_lan curl -s --max-time 2 -o /dev/null http://10.78.0.2/ ||
	{ echo "bench-conn: the HTTP server does not answer" >&2; exit 1; }
wait_dns in_lan curl -sk --max-time 2 -o /dev/null https://10.78.0.2/ ||
	{ echo "bench-conn: the TLS server does not answer" >&2; exit 1; }

qpk() { stat queue11_packets; }
download() {	# prints "bytes_per_s size"
	in_lan curl -sS -o /dev/null -w '%{speed_download} %{size_download}\n' \
		--resolve allowed.test:80:10.78.0.2 http://allowed.test/big
}
s_time_run() {
	in_lan openssl s_time -connect 10.78.0.2:443 -new -time "$TLS_TIME" \
		>"$T/s_time.out" 2>&1
}
net_round() {	# net_round ROUND CONFIG
	local r=$1 cfg=$2 b a out n s
	b=; [ "$cfg" = safegated ] && b=$(qpk)
	out=$(download)
	[ "$cfg" = safegated ] && a=$(qpk)
	printf 'download\t%d\t%s\tbig\t\t%s\t%s\t%s\n' "$r" "$cfg" \
		"${out% *}" "${out#* }" "${b:+queued=$((a - b))}" >>"$RAW"
	b=; [ "$cfg" = safegated ] && b=$(qpk)
	# s_time's own "real seconds" are whole seconds: time it here.
	s=$(elapsed s_time_run)
	out="$(awk '/real seconds/ { print $1 }' "$T/s_time.out") $s"
	[ "$cfg" = safegated ] && a=$(qpk)
	printf 's_time\t%d\t%s\t\t%s\t%s\t\t%s\n' "$r" "$cfg" "${out#* }" \
		"${out% *}" "${b:+queued=$((a - b))}" >>"$RAW"
	b=; [ "$cfg" = safegated ] && b=$(qpk)
	out=$(in_lan python3 "$T/hs.py" 10.78.0.2 allowed.test "$TLS_TIME")
	[ "$cfg" = safegated ] && a=$(qpk)
	printf 'sni_loop\t%d\t%s\t\t%s\t%s\t\t%s\n' "$r" "$cfg" "${out#* }" \
		"${out% *}" "${b:+queued=$((a - b))}" >>"$RAW"
}
for r in $(seq 1 "$NET_ROUNDS"); do
	net_round "$r" none
	safegated_start "$T/sg.conf" || exit 1
	net_round "$r" safegated
	ctl stats >"$BIN/bench-conn-stats-round$r.txt"
	safegated_stop
	echo "bench-conn: router round $r done" >&2
done

# ------------------------------------------------------------ summary
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)
{
echo '```'
echo "Connections at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null)$(
	[ -n "$(git -C "$REPO" status --porcelain 2>/dev/null)" ] &&
	echo ', uncommitted changes'), $START;"
echo "ROUNDS=$ROUNDS COPIES=$COPIES NET_ROUNDS=$NET_ROUNDS SIZE_MB=$SIZE_MB TLS_TIME=$TLS_TIME; pinning: $PINNING."
echo "Load average (1, 5, 15 min) at the start: $LOAD0; at the end: $LOAD1."
echo "Corpus: $NFILES files, $CORPUS_PACKETS IP packets, $CORPUS_FLOWS TCP/UDP flows. Mix: $MIX_packets IP packets, $MIX_flows flows."
echo "safegated over the mix: $(tail -1 "$T/sg-mix.err" | sed 's/^safegated: [^:]*: //'); $(cat "$T/sg-mix.lines") lines."
echo "ndpiReader over the mix: $(grep -E 'IP packets:' "$T/ndpi-mix.out" | tr -s ' \t' ' '); $(grep -E 'Unique flows:' "$T/ndpi-mix.out" | tr -s ' \t' ' ')."
echo '```'
echo
awk -F'\t' '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
		if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function range(list,   n, a, i, lo, hi) {
	n = split(list, a, " "); lo = hi = a[1]
	for (i = 2; i <= n; i++) { if (a[i] + 0 < lo + 0) lo = a[i]; if (a[i] + 0 > hi + 0) hi = a[i] }
	return sprintf("%.3f-%.3f", lo, hi)
}
NR == 1 { next }
$1 == "replay" {
	k = $4 SUBSEP $3; T[k] = T[k] " " $5; P[$4] = $6; F[$4] = $7
	sec[$4, $2, $3] = $5
}
$1 == "download" { D[$3] = D[$3] " " $6 / 1e6; if ($8 != "") { sub("queued=", "", $8); Q[$1] = Q[$1] " " $8 }
	dl[$2, $3] = $6 }
$1 == "s_time" || $1 == "sni_loop" { R[$1, $3] = R[$1, $3] " " $6 / $5; rr[$1, $2, $3] = $6 / $5
	if ($8 != "") { sub("queued=", "", $8); Q[$1] = Q[$1] " " $8 / $6 } }
END {
	print "| input | program | median s (min-max) | packets/s | flows/s | ndpiReader / safegated, median of per-round ratios |"
	print "|---|---|---:|---:|---:|---:|"
	for (f = 0; f < 2; f++) {
		inp = f ? "mix" : "corpus"
		rl = ""
		for (r = 1; (inp, r, "safegated") in sec; r++)
			rl = rl " " sec[inp, r, "ndpiReader"] / sec[inp, r, "safegated"]
		for (p = 0; p < 2; p++) {
			pr = p ? "ndpiReader" : "safegated"
			m = median(T[inp, pr])
			printf "| %s | %s | %.3f (%s) | %.0f | %.0f | %s |\n", inp, pr, m,
			    range(T[inp, pr]), P[inp] / m, F[inp] / m,
			    p ? "" : sprintf("**%.2fx** (%s)", median(rl), range(rl))
		}
	}
	print ""
	print "| test | without (median) | with safegated (median) | median of per-round ratios (range) | queued by safegated per run / per connection (median) |"
	print "|---|---:|---:|---:|---:|"
	rl = ""
	for (r = 1; (r, "none") in dl; r++) rl = rl " " dl[r, "safegated"] / dl[r, "none"]
	printf "| %s MB download, MB/s | %.1f | %.1f | **%.3f** (%s) | %s |\n", '"$SIZE_MB"',
	    median(D["none"]), median(D["safegated"]), median(rl), range(rl), median(Q["download"])
	for (t = 0; t < 2; t++) {
		tn = t ? "sni_loop" : "s_time"
		rl = ""
		for (r = 1; (tn, r, "none") in rr; r++) rl = rl " " rr[tn, r, "safegated"] / rr[tn, r, "none"]
		printf "| %s, handshakes/s | %.1f | %.1f | **%.3f** (%s) | %.2f |\n", tn == "s_time" ? "openssl s_time -new (no SNI)" : "python3 ssl loop (SNI)",
		    median(R[tn, "none"]), median(R[tn, "safegated"]), median(rl), range(rl), median(Q[tn])
	}
}' "$RAW"
} >"$SUMMARY"
cat "$SUMMARY"
