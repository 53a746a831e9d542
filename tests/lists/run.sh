#!/usr/bin/env bash
# run.sh BUILD - golden tests of the list reader.
#
# Every input here (all files but *.expected and this script) is read by
# BUILD/tools/lists-dump, and what it prints (entries, FILE:LINE: reason
# diagnostics, stats) must equal INPUT.expected byte for byte.  *.hashed
# inputs are read as confidential lists (-C).  On a difference the unified
# diff is printed and the run fails.  UPDATE=1 rewrites the .expected
# files instead: review the diff before committing them.
set -u
B=${1:?usage: run.sh BUILD}
cd "$(dirname "$0")/../.." || exit 1
DUMP=$B/tools/lists-dump
[ -x "$DUMP" ] || { echo "not ok - $DUMP not built"; exit 1; }

pass=0 fail=0
for f in tests/lists/*; do
	case $f in */services.sh) if [ ! -x "$B/safegate-lists" ]; then echo "ok - $f # SKIP $B/safegate-lists not built"; elif "$f" "$B"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi; continue ;; esac
	case $f in *.expected|*/run.sh) continue ;; esac
	flags=
	case $f in *.hashed) flags=-C ;; esac
	out=$("$DUMP" $flags "$f" 2>&1; echo "exit $?")
	if [ "${UPDATE:-0}" = 1 ]; then
		printf '%s\n' "$out" >"$f.expected"
		echo "updated $f.expected"
		continue
	fi
	if [ ! -e "$f.expected" ]; then
		echo "not ok - $f: no $f.expected (UPDATE=1 writes it)"
		fail=$((fail + 1))
	elif d=$(printf '%s\n' "$out" | diff -u --label "$f.expected" \
	    --label "$f (lists-dump)" "$f.expected" -); then
		echo "ok - $f"
		pass=$((pass + 1))
	else
		echo "not ok - $f"
		printf '%s\n' "$d"
		fail=$((fail + 1))
	fi
done
echo "# lists golden: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
