#!/usr/bin/env bash
# services.sh [BUILD] - checks of the service lists, blocklists/services/.
#
# Every NAME.domains there must compile as category NAME with
# `safegate-lists compile -n` with no invalid, skipped or duplicate line, no
# diagnostic, and at least one entry.  Then all of them are compiled into
# one set, and `safegate-lists lookup` must find well-known names in their
# own service and common names in none.  BUILD defaults to build.
set -u
B=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
TOOL=$B/safegate-lists
DIR=${SERVICES_DIR:-blocklists/services}
[ -x "$TOOL" ] || { echo "not ok - $TOOL not built"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sg-services.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

pass=0 fail=0
ok() { echo "ok - $1"; pass=$((pass + 1)); }
notok() { echo "not ok - $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/#   /'; fail=$((fail + 1)); }

args=()
for f in "$DIR"/*.domains; do
	[ -e "$f" ] || { notok "no service lists in $DIR"; break; }
	name=$(basename "$f" .domains)
	args+=(--category "$name" "$f")
	out=$("$TOOL" compile -n --category "$name" "$f" 2>"$tmp/err")
	rc=$?
	err=$(cat "$tmp/err")
	# The summary row: category files lines kept allows duplicates invalid skipped
	row=$(printf '%s\n' "$out" | awk -v n="$name" '$1 == n')
	set -- $row
	if [ $rc -ne 0 ]; then
		notok "$f: compile exit $rc" "$out$err"
	elif [ -n "$err" ]; then
		notok "$f: diagnostics" "$err"
	elif [ $# -ne 8 ]; then
		notok "$f: no summary row for $name" "$out"
	elif [ "$4" -eq 0 ]; then
		notok "$f: empty (no entry kept)"
	elif [ "$6" -ne 0 ] || [ "$7" -ne 0 ] || [ "$8" -ne 0 ]; then
		notok "$f: $6 duplicate, $7 invalid, $8 skipped lines" "$out"
	else
		ok "$f: $4 entries"
	fi
done

db=$tmp/services.sgdb
if ! out=$("$TOOL" compile -o "$db" "${args[@]}" 2>&1); then
	notok "compile all services into one set" "$out"
else
	ok "compile all services into one set"
	# NAME EXPECTED-CATEGORY ("-" for none)
	while read -r name want; do
		got=$("$TOOL" lookup "$db" "$name" 2>&1 | cut -f2)
		if [ "$got" = "$want" ]; then
			ok "lookup $name: $want"
		else
			notok "lookup $name: want $want, got $got"
		fi
	done <<-'CASES'
	www.tiktok.com tiktok
	vm.tiktok.com tiktok
	www.roblox.com roblox
	setup.rbxcdn.com roblox
	discord.gg discord
	gateway.discord.gg discord
	cdn.discordapp.com discord
	web.whatsapp.com whatsapp
	mmg.whatsapp.net whatsapp
	youtube.com youtube
	www.youtube.com youtube
	rr1---sn-abc.googlevideo.com youtube
	i.ytimg.com youtube
	www.instagram.com instagram
	scontent.cdninstagram.com instagram
	app.snapchat.com snapchat
	account-public-service-prod.ol.epicgames.com fortnite
	www.fortnite.com fortnite
	api.minecraftservices.com minecraft
	pc.realms.minecraft.net minecraft
	t.me telegram
	web.telegram.org telegram
	www.twitch.tv twitch
	video-edge-c2a1b3.ttvnw.net twitch
	www.google.com -
	google.com -
	www.gstatic.com -
	fonts.googleapis.com -
	storage.googleapis.com -
	foo.appspot.com -
	www.facebook.com -
	scontent.xx.fbcdn.net -
	example.com -
	www.bbc.co.uk -
	notdiscord.gg -
	CASES
fi

echo "# service lists: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
