#!/bin/sh
# tests/config/run.sh BUILD_DIR - golden-file tests of `safegated -n -c FILE`.
#
#   good/NAME.conf  must load: exit 0, stdout identical to good/NAME.expected,
#                   and that output, loaded again, must print the same config
#                   (the round trip; only the first line, which names the
#                   file, may differ).
#   bad/NAME.conf   must be refused: exit 1, nothing on stdout, and stderr
#                   identical to bad/NAME.expected ("FILE:LINE: message").
#   config/safegate.conf, the shipped default, must load and round-trip
#   too, and print as tests/config/shipped.expected.
#   config/examples/NAME.conf, the examples that ship with it, the same,
#   printing as tests/config/examples/NAME.expected.
#   (That between them they use every key of the schema is checked by
#   tests/unit/test_config.c, which reads the files' trees.)
#
# Runs from the repository root so that file names in messages are the
# relative paths the expected files hold.  UPDATE=1 rewrites the expected
# files from the current output instead of comparing (review the diff).
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
bin=$build/safegated
if [ ! -x "$bin" ]; then
	echo "$0: $bin not found; build it first" >&2
	exit 2
fi

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0

ok() {
	pass=$((pass + 1))
	echo "ok    $1"
}

bad() {
	fail=$((fail + 1))
	echo "FAIL  $1: $2"
}

# good CONF EXPECTED
good() {
	conf=$1
	exp=$2
	"$bin" -n -c "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		bad "$conf" "exit $rc: $(head -n 1 "$tmp/err")"
		return
	fi
	if [ "${UPDATE:-0}" = 1 ]; then
		cp "$tmp/out" "$exp"
	fi
	if ! diff -u "$exp" "$tmp/out" >"$tmp/diff" 2>&1; then
		bad "$conf" "output differs from $exp"
		sed 's/^/      /' "$tmp/diff"
		return
	fi
	cp "$tmp/out" "$tmp/again.conf"
	"$bin" -n -c "$tmp/again.conf" >"$tmp/again" 2>"$tmp/err"
	rc=$?
	if [ $rc -ne 0 ]; then
		bad "$conf" "its output does not load: $(head -n 1 "$tmp/err")"
		return
	fi
	tail -n +2 "$tmp/out" >"$tmp/a"
	tail -n +2 "$tmp/again" >"$tmp/b"
	if ! diff -u "$tmp/a" "$tmp/b" >"$tmp/diff" 2>&1; then
		bad "$conf" "round trip changes the output"
		sed 's/^/      /' "$tmp/diff"
		return
	fi
	ok "$conf"
}

for conf in tests/config/good/*.conf; do
	good "$conf" "${conf%.conf}.expected"
done
good config/safegate.conf tests/config/shipped.expected
for conf in config/examples/*.conf; do
	name=${conf##*/}
	good "$conf" "tests/config/examples/${name%.conf}.expected"
done

for conf in tests/config/bad/*.conf; do
	exp=${conf%.conf}.expected
	"$bin" -n -c "$conf" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "${UPDATE:-0}" = 1 ] && [ $rc -eq 1 ]; then
		cp "$tmp/err" "$exp"
	fi
	if [ $rc -ne 1 ]; then
		bad "$conf" "exit $rc, not 1"
	elif [ -s "$tmp/out" ]; then
		bad "$conf" "wrote to stdout"
	elif ! diff -u "$exp" "$tmp/err" >"$tmp/diff" 2>&1; then
		bad "$conf" "message differs from $exp"
		sed 's/^/      /' "$tmp/diff"
	else
		ok "$conf"
	fi
done

echo "config tests: $pass passed, $fail failed"
[ $fail -eq 0 ]
