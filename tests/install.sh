#!/bin/sh
# install.sh BUILD - `make install` into a scratch DESTDIR: every file
# lands under PREFIX, the installed config names the installed lists, and
# the installed safegated accepts it and finds every list.
set -u
B=${1:-build}
cd "$(dirname "$0")/.." || exit 1
D=$(mktemp -d /tmp/safegate-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail=0
check() {
	if eval "$2" >/dev/null 2>&1; then echo "ok - $1"
	else echo "not ok - $1"; fail=1; fi
}
make -s BUILD="$B" install DESTDIR="$D" PREFIX=/opt/sg >"$D.log" 2>&1 ||
	{ echo "not ok - make install"; cat "$D.log"; rm -f "$D.log"; exit 1; }
rm -f "$D.log"
for f in sbin/safegated sbin/safegatectl sbin/safegate-lists \
    share/safegate/blocklists/adult.domains \
    share/safegate/blocklists/seed/doh.domains \
    share/safegate/blocklists/feeds.conf \
    share/safegate/blocklists/LICENSES.md \
    share/safegate/indicators.md \
    share/man/man8/safegated.8 share/man/man5/safegate.conf.5; do
	check "installed /opt/sg/$f" "test -s '$D/opt/sg/$f'"
done
check "the config is installed" "test -s '$D/etc/safegate/safegate.conf'"
check "it names the installed lists" \
	"grep -q '^lists_dir = \"/opt/sg/share/safegate/blocklists\";' '$D/etc/safegate/safegate.conf'"
check "the unit runs the installed daemon" \
	"grep -q 'ExecStart=/opt/sg/sbin/safegated -f' '$D/lib/systemd/system/safegated.service'"
check "the installed safegated accepts the installed config" \
	"'$D/opt/sg/sbin/safegated' -n -c '$D/etc/safegate/safegate.conf'"
check "every list it names is there and compiles" \
	"'$D/opt/sg/sbin/safegate-lists' compile -c '$D/etc/safegate/safegate.conf' -L '$D/opt/sg/share/safegate/blocklists' -o '$D/lists.sgdb'"
check "the compiled set checks out" \
	"'$D/opt/sg/sbin/safegate-lists' check '$D/lists.sgdb'"
for ex in family school; do
	e=$D/opt/sg/share/safegate/examples/$ex.conf
	check "the $ex example is installed and accepted" \
		"'$D/opt/sg/sbin/safegated' -n -c '$e'"
	check "its lists and services compile from the installed files" \
		"'$D/opt/sg/sbin/safegate-lists' compile -n -c '$e' -L '$D/opt/sg/share/safegate/blocklists'"
done
echo local > "$D/etc/safegate/safegate.conf"
make -s BUILD="$B" install DESTDIR="$D" PREFIX=/opt/sg >/dev/null 2>&1
check "a second install keeps the admin's config" \
	"grep -qx local '$D/etc/safegate/safegate.conf'"
exit $fail
