#!/usr/bin/env bash
# run.sh FUZZ_BUILD SECONDS SHARED - a short libFuzzer run of every target.
#
# Seeds: the captures in SHARED/corpus/pcap (through seed-tool, so the
# packet, pipeline and DNS targets start from real traffic), the shipped
# and golden configs, and the test list files.  A crash fails the run and
# leaves its input in FUZZ_BUILD/crashes/.
set -u
B=$1 SECS=${2:-20} SHARED=${3:-../shared}
cd "$(dirname "$0")/../.." || exit 1
C=$B/corpus
mkdir -p "$C" "$B/crashes"
for t in packet pipeline dns config lists; do mkdir -p "$C/$t"; done

if ls "$SHARED"/corpus/pcap/*.pcap* >/dev/null 2>&1; then
	"$B/seed-tool" "$C/packet" "$C/dns" "$SHARED"/corpus/pcap/*.pcap*
	cp -n "$C"/packet/* "$C/pipeline/" 2>/dev/null
else
	echo "# $SHARED/corpus/pcap not found: packet seeds start empty"
fi
cp -n config/safegate.conf tests/config/good/*.conf tests/config/bad/*.conf \
	"$C/config/" 2>/dev/null
# List seeds: the first byte says whether the reader takes the list as
# confidential (1 for the .hashed ones).
for f in tests/data/lists/* tests/lists/*; do
	case $f in *.expected|*.sh) continue ;; esac
	case $f in *.hashed) flag='\001' ;; *) flag='\000' ;; esac
	{ printf "$flag"; cat "$f"; } >"$C/lists/${f//\//_}"
done
mkdir -p "$C/sgdb" && cp -n tests/fuzz/seeds/sgdb/* "$C/sgdb/" 2>/dev/null
mkdir -p "$C/registry" && cp -n blocklists/feeds.conf "$C/registry/" 2>/dev/null
mkdir -p "$C/tls" && cp -n tests/fuzz/seeds/tls/* "$C/tls/" 2>/dev/null
mkdir -p "$C/http" && cp -n tests/fuzz/seeds/http/* "$C/http/" 2>/dev/null
mkdir -p "$C/quic" && cp -n tests/fuzz/seeds/quic/* "$C/quic/" 2>/dev/null
mkdir -p "$C/schedule" && cp -n tests/fuzz/seeds/schedule/* "$C/schedule/" 2>/dev/null
mkdir -p "$C/leases" && cp -n tests/fuzz/seeds/leases/* "$C/leases/" 2>/dev/null
mkdir -p "$C/dnsanswer" && cp -n tests/fuzz/seeds/dnsanswer/* "$C/dnsanswer/" 2>/dev/null
mkdir -p "$C/overrides" && cp -n tests/fuzz/seeds/overrides/* "$C/overrides/" 2>/dev/null
mkdir -p "$C/jsonl" && cp -n tests/fuzz/seeds/jsonl/* "$C/jsonl/" 2>/dev/null
mkdir -p "$C/blockpage" && cp -n tests/fuzz/seeds/blockpage/* "$C/blockpage/" 2>/dev/null
mkdir -p "$C/evlog" && cp -n tests/fuzz/seeds/evlog/* "$C/evlog/" 2>/dev/null
mkdir -p "$C/pagelink" && cp -n tests/fuzz/seeds/pagelink/* "$C/pagelink/" 2>/dev/null
mkdir -p "$C/riskstate" && cp -n tests/fuzz/seeds/riskstate/* "$C/riskstate/" 2>/dev/null
mkdir -p "$C/control" && cp -n tests/fuzz/seeds/control/* "$C/control/" 2>/dev/null
cp -n tests/fuzz/seeds/pipeline/* "$C/pipeline/" 2>/dev/null

status=0
for f in "$B"/fuzz_*; do
	[ -x "$f" ] || continue
	name=${f##*/fuzz_}
	mkdir -p "$C/$name"
	echo "# fuzz_$name: ${SECS}s"
	if ! "$f" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$B/crashes/$name-" \
		"$C/$name" >"$B/fuzz_$name.log" 2>&1; then
		status=1
		echo "not ok - fuzz_$name found a crash:"
		tail -40 "$B/fuzz_$name.log"
	else
		echo "ok - fuzz_$name: $(grep -E 'stat::number_of_executed_units' "$B/fuzz_$name.log" | awk '{print $2}') runs, $(grep -oE 'cov: [0-9]+' "$B/fuzz_$name.log" | tail -1)"
	fi
done
exit $status
