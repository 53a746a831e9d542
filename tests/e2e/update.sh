#!/usr/bin/env bash
# update.sh - `safegate-lists update` end to end: the router downloads feeds
# with the real curl from HTTP servers "outside" (python3 -m http.server in
# the wan namespace), checks them, keeps or replaces its copies and
# compiles its lists.  Nothing leaves the namespaces: the router has no
# default route, and every URL names the wan namespace's address.
#
#   round 1   every feed downloads cleanly: all replaced, set compiled
#   round 2   each feed goes wrong in its own way (too small, garbage, a
#             too big change, HTTP 404, server down, over max_bytes): each
#             keeps its previous copy and says why, the good one is
#             replaced, the exit status is 1, and the set still compiles
#
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	echo "not ok - end-to-end tests need root (namespaces): run 'sudo make test'"
	exit 1
fi
for tool in ip python3 curl; do
	command -v $tool >/dev/null || { echo "not ok - $tool missing: run 'make deps'"; exit 1; }
done
trap cleanup EXIT
net_up

SGL=$TOP/$BUILD/safegate-lists
SRV=http://10.78.0.2:8080
DOWN=http://10.78.0.2:8081
mkdir -p "$T/www" "$T/www2" "$T/lists"

# names FILE N [PREFIX]: a domains file of N reserved names.
names() {
	local i
	{
		echo "# test feed"
		for i in $(seq 1 "$2"); do echo "${3:-n}$i.test"; done
	} >"$1"
}

cat >"$T/lists/seed.domains" <<LIST
# the test's own list
seed.test
LIST

cat >"$T/lists/feeds.conf" <<REG
# A test registry: plain http to the wan namespace only.
allow_http = true;
feeds = (
  { name = "good"; url = "$SRV/good.txt"; format = "domains";
    category = "testcat"; licence = "test"; min_entries = 100; },
  { name = "small"; url = "$SRV/small.txt"; format = "domains";
    category = "testcat"; licence = "test"; min_bytes = 1000; },
  { name = "garbage"; url = "$SRV/garbage.txt"; format = "domains";
    category = "testcat"; licence = "test"; },
  { name = "change"; url = "$SRV/change.txt"; format = "domains";
    category = "testcat"; licence = "test"; max_change = 0.25; },
  { name = "gone"; url = "$SRV/gone.txt"; format = "hosts";
    category = "testcat"; licence = "test"; },
  { name = "down"; url = "$DOWN/down.txt"; format = "domains";
    category = "testcat"; licence = "test"; },
  { name = "big"; url = "$SRV/big.txt"; format = "domains";
    category = "testcat"; licence = "test"; max_bytes = 4000; }
);
REG

cat >"$T/sg.conf" <<CONF
lists_dir = "$T/lists";
lists_db = "$T/lists.sgdb";
lists = (
  { category = "testcat"; files = [ "seed.domains" ];
    feeds = [ "good", "small", "garbage", "change", "gone", "down", "big" ]; }
);
block = [ "testcat" ];
log = { events = "$T/events.jsonl"; };
control = { socket = "$T/control.sock"; };
CONF

# http_start NAME DIR PORT: a static HTTP server in the wan namespace.
http_start() {
	ip netns exec "$WAN" python3 -m http.server --bind 10.78.0.2 \
		--directory "$2" "$3" >"$T/$1.log" 2>&1 &
	echo $! >"$T/$1.bgpid"
	local i
	for i in $(seq 1 50); do
		if in_rtr curl -s -o /dev/null "http://10.78.0.2:$3/"; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# update: one run, output in $T/update.out, exit status in $UPDATE_RC.
update() {
	in_rtr "$SGL" update -c "$T/sg.conf" >"$T/update.out" 2>&1
	UPDATE_RC=$?
}

# said DESCRIPTION ERE: the last update printed a line matching ERE.
said() {
	if grep -Eq -- "$2" "$T/update.out"; then ok "$1"
	else not_ok "$1 (wanted /$2/)"; sed 's/^/#   /' "$T/update.out" | head -20; fi
}

sums() { (cd "$T/feeds" && sha256sum ./*.list); }

# ------------------------------------------------------------- isolation
check "the router has no IPv4 default route" \
	test -z "$(in_rtr ip -4 route show default)"
check "the router has no IPv6 default route" \
	test -z "$(in_rtr ip -6 route show default)"

names "$T/www/good.txt" 200 g
names "$T/www/small.txt" 200 s
names "$T/www/garbage.txt" 200 r
names "$T/www/change.txt" 200 c
{ echo "# a hosts feed"; for i in $(seq 1 50); do echo "0.0.0.0 h$i.test"; done; } \
	>"$T/www/gone.txt"
names "$T/www/big.txt" 200 b
names "$T/www2/down.txt" 200 d
http_start http "$T/www" 8080 || { not_ok "http server starts"; exit 1; }
http_start http2 "$T/www2" 8081 || { not_ok "second http server starts"; exit 1; }
ok "http servers answer in the wan namespace"

# ---------------------------------------------------------------- round 1
update
check "round 1: every feed updated (exit 0)" test "$UPDATE_RC" = 0
said "round 1: good is new" '^good: updated, 200 entries, [0-9]+ bytes \(new\)$'
said "round 1: a hosts feed is read" '^gone: updated, 50 entries, [0-9]+ bytes \(new\)$'
check "round 1: every feed is in place" test "$(ls "$T/feeds"/*.list | wc -l)" = 7
check "round 1: the set is compiled" test -s "$T/lists.sgdb"
check_out "round 1: a fed name is blocked" 'testcat' "$SGL" lookup "$T/lists.sgdb" www.g7.test
check_out "round 1: a seed name is blocked" 'testcat' "$SGL" lookup "$T/lists.sgdb" seed.test
check_out "round 1: the server was asked from the router" \
	'^10\.78\.0\.1 .*"GET /good\.txt HTTP' cat "$T/http.log"
sums >"$T/round1.sums"

# ---------------------------------------------------------------- round 2
names "$T/www/good.txt" 210 g
echo "a.test" >"$T/www/small.txt"
cat >"$T/www/garbage.txt" <<'HTML'
<!DOCTYPE html>
<html><head><title>503 Service Unavailable</title></head>
<body><h1>Service Unavailable</h1>
<p>The server is temporarily unable to service your request.</p>
</body></html>
HTML
names "$T/www/change.txt" 60 c
rm "$T/www/gone.txt"
names "$T/www/big.txt" 600 b
kill "$(cat "$T/http2.bgpid")"; wait "$(cat "$T/http2.bgpid")" 2>/dev/null
rm -f "$T/http2.bgpid"
cp "$T/lists.sgdb" "$T/round1.sgdb"

update
check "round 2: a failed feed makes the exit status 1" test "$UPDATE_RC" = 1
said "round 2: good is replaced" '^good: updated, 210 entries, [0-9]+ bytes \(was 200 entries\)$'
said "round 2: too small is kept" \
	'^small: failed: too small: 7 bytes, at least 1000; kept the previous copy \(200 entries\)$'
said "round 2: garbage is kept" \
	'^garbage: failed: too many invalid lines: [0-9]+ of [0-9]+, at most 10%; kept the previous copy \(200 entries\)$'
said "round 2: a too big change is kept" \
	'^change: failed: entry count changed by 70% \(200 -> 60\), at most 25%; kept the previous copy \(200 entries\)$'
said "round 2: HTTP 404 is kept" \
	'^gone: failed: download: HTTP 404; kept the previous copy \(50 entries\)$'
said "round 2: server down is kept" \
	'^down: failed: download: cannot connect; kept the previous copy \(200 entries\)$'
said "round 2: over max_bytes is kept" \
	'^big: failed: download: larger than max_bytes \(4000\); kept the previous copy \(200 entries\)$'
sums >"$T/round2.sums"
check "round 2: only good changed on disk" \
	test "$(diff "$T/round1.sums" "$T/round2.sums" | grep -c '^>')" = 1
check_out "round 2: the changed file is good's" '^> .*good\.list$' \
	diff "$T/round1.sums" "$T/round2.sums"
check "round 2: no temporary file is left" \
	test -z "$(find "$T/feeds" -name '.*.list.*')"
check_out "round 2: the set has the new good names" 'testcat' \
	"$SGL" lookup "$T/lists.sgdb" g210.test
check_out "round 2: the set keeps the kept copies' names" 'testcat' \
	"$SGL" lookup "$T/lists.sgdb" h50.test

# ---------------------------------------------------------------- round 3
# Nothing downloaded at all: the server is gone; the copies stay.
kill "$(cat "$T/http.bgpid")"; wait "$(cat "$T/http.bgpid")" 2>/dev/null
rm -f "$T/http.bgpid"
update
check "round 3: all down, exit status 1" test "$UPDATE_RC" = 1
said "round 3: good is kept too" \
	'^good: failed: download: cannot connect; kept the previous copy \(210 entries\)$'
sums >"$T/round3.sums"
check "round 3: nothing changed on disk" cmp -s "$T/round2.sums" "$T/round3.sums"

finish
