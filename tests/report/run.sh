#!/usr/bin/env bash
# tests/report/run.sh BUILD_DIR - golden-file tests of `safegatectl report`.
#
#   events.jsonl.1, events.jsonl   a week of a family's events, written by
#                   hand: four devices (by name, by MAC, by address), blocks
#                   in several categories and schedules over seven days,
#                   every indicator risk.h names, an abuse-list hit with its
#                   hold (and a tampered confidential line that carries a
#                   name, which must never be printed), bookkeeping lines,
#                   hostile device and site names, seven lines that cannot
#                   be read, a blank line, lines outside the window.
#   expected.txt, expected.html, expected.json
#                   the report of both files, --now 2026-03-07 18:00 UTC,
#                   the default window (7d), TZ=Europe/London.
#   expected-device.txt   the same for --device amy-tablet --since 3d.
#   expected-config.txt   the same files found through a config's
#                   log.events and its rotated siblings (one of them
#                   compressed, which is skipped).
# Then: the JSON parses (python3), nothing confidential or unescaped is
# in any output, the exit statuses, and, when chromium is installed, the
# HTML renders to a non-blank screenshot and a PDF.
#
# Runs from the repository root.  UPDATE=1 rewrites the expected files
# from the current output instead of comparing (review the diff).
set -u

if [ $# -ne 1 ]; then
	echo "usage: $0 BUILD_DIR" >&2
	exit 2
fi
case $1 in
/*)	build=$1 ;;
*)	build=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")/../.." || exit 2
D=tests/report
export TZ=Europe/London LC_ALL=C
NOW=1772906400	# 2026-03-07T18:00:00Z, a Saturday

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok    $1"; }
bad() { fail=$((fail + 1)); echo "FAIL  $1: $2"; }
skip() { echo "skip  $1"; }

bin=$build/safegatectl
if ! "$bin" report --help 2>/dev/null | grep -q 'usage: safegatectl report'; then
	echo "$0: $bin has no 'report' command; build it first" >&2
	exit 2
fi
report() { "$bin" report "$@"; }

# golden NAME EXPECTED ARGS...: exit 0 and stdout as EXPECTED.
golden() {
	name=$1 exp=$2
	shift 2
	report "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		bad "$name" "exit $rc: $(head -n 1 "$tmp/err")"
		return
	fi
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/out" "$exp"
		ok "$name (updated $exp)"
	elif cmp -s "$tmp/out" "$exp"; then
		ok "$name"
	else
		bad "$name" "differs from $exp:"
		diff -u "$exp" "$tmp/out" | head -n 40
	fi
	cp "$tmp/out" "$tmp/$(basename "$exp")"
}

EV=(--events $D/events.jsonl $D/events.jsonl.1 --now $NOW)
golden "text" $D/expected.txt "${EV[@]}"
golden "html" $D/expected.html "${EV[@]}" --format html
golden "json" $D/expected.json "${EV[@]}" --format json
golden "--device amy-tablet --since 3d" $D/expected-device.txt \
	"${EV[@]}" --device amy-tablet --since 3d

# The config's events file and its rotated siblings, one compressed.
mkdir -p "$tmp/log"
cp $D/events.jsonl $D/events.jsonl.1 "$tmp/log/"
printf '\037\213\010\000compressed' >"$tmp/log/events.jsonl.2.gz"
mkdir "$tmp/log/events.jsonl.d"		# not a file: not read
printf 'log = { events = "%s/log/events.jsonl"; };\n' "$tmp" >"$tmp/c.conf"
golden "config's events file and PATH.*" $D/expected-config.txt \
	-c "$tmp/c.conf" --now $NOW

# --- what no output may hold
for f in expected.txt expected.html expected.json expected-device.txt \
	expected-config.txt; do
	[ -f "$tmp/$f" ] || continue
	if grep -q 'leaked-secret-name' "$tmp/$f"; then
		bad "$f" "prints the name on a confidential line"
	elif grep -q $'\x1b' "$tmp/$f"; then
		bad "$f" "holds a raw terminal escape"
	else
		ok "$f: no confidential name, no raw escape"
	fi
done
if [ -f "$tmp/expected.html" ]; then
	# Everything from the log is escaped; nothing is fetched or run.
	if grep -q -i -E '<script|<img|<iframe|<link|<object|@import|url\(|http://' \
		"$tmp/expected.html"; then
		bad "html" "holds markup from the log or an outside asset"
	elif ! grep -q '&lt;script&gt;alert(1)&lt;/script&gt;' "$tmp/expected.html" ||
		! grep -q '&quot;&gt;&lt;img src=x' "$tmp/expected.html"; then
		bad "html" "the hostile names are not shown escaped"
	else
		ok "html: hostile names escaped, self-contained"
	fi
fi
if grep -q '7 lines could not be read and were skipped' "$tmp/expected.txt" \
	2>/dev/null; then
	ok "malformed lines counted"
else
	bad "text" "does not say 7 lines could not be read"
fi
if command -v python3 >/dev/null; then
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
assert d["unreadable"] == 7 and d["abuse_list"]["count"] == 2
assert d["advice"][0] == "abuse-list"' "$tmp/expected.json" 2>"$tmp/err"; then
		ok "json parses"
	else
		bad "json" "$(tail -n 1 "$tmp/err")"
	fi
else
	skip "json parse: python3 not installed"
fi

# --- exit statuses
report --events $D/nonexistent.jsonl --now $NOW >/dev/null 2>"$tmp/err"
[ $? -eq 1 ] && ok "a missing --events file: exit 1" ||
	bad "missing --events" "exit not 1"
printf 'log = { events = "%s/none/events.jsonl"; };\n' "$tmp" >"$tmp/n.conf"
if report -c "$tmp/n.conf" --now $NOW >"$tmp/out" 2>&1 &&
	grep -q 'Nothing was blocked' "$tmp/out"; then
	ok "no events file yet: an empty report"
else
	bad "no events file" "$(head -n 1 "$tmp/out")"
fi
report --format pdf --events $D/events.jsonl >/dev/null 2>&1
[ $? -eq 2 ] && ok "--format pdf: exit 2" || bad "--format pdf" "exit not 2"

# --- the HTML in a real browser: a screenshot and a PDF (print CSS)
chromium=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$chromium" ]; then
	skip "screenshot: chromium not installed (make deps)"
elif [ ! -f "$tmp/expected.html" ]; then
	skip "screenshot: no HTML"
else
	cr() {
		timeout 60 "$chromium" --headless --no-sandbox --disable-gpu \
			--no-first-run --disable-extensions \
			--user-data-dir="$tmp/chromium" "$@" \
			"file://$tmp/expected.html" >"$tmp/cr.log" 2>&1
	}
	cr --screenshot="$tmp/shot.png" --window-size=1000,1400
	size=$(stat -c %s "$tmp/shot.png" 2>/dev/null || echo 0)
	# A blank 1000x1400 page is a few kB; the report's first screen,
	# with its text, table and bars, is well over 50 kB.
	if [ "$size" -gt 50000 ]; then
		ok "screenshot: $size bytes"
	else
		bad "screenshot" "$size bytes: $(tail -n 1 "$tmp/cr.log")"
	fi
	cr --print-to-pdf="$tmp/report.pdf" --no-pdf-header-footer
	size=$(stat -c %s "$tmp/report.pdf" 2>/dev/null || echo 0)
	if [ "$size" -gt 20000 ] &&
		[ "$(head -c 5 "$tmp/report.pdf")" = "%PDF-" ]; then
		ok "print to PDF: $size bytes"
	else
		bad "print to PDF" "$size bytes: $(tail -n 1 "$tmp/cr.log")"
	fi
	[ -n "${KEEP:-}" ] && cp "$tmp/shot.png" "$tmp/report.pdf" "$KEEP/"
fi

echo "report: $pass passed, $fail failed"
[ $fail -eq 0 ]
