#!/usr/bin/env bash
# sgdb.sh - the daemon on a compiled set, end to end: safegate-lists compiles
# every kind of list (plain, adblock with an allow exception, a confidential
# hashed list), safegated maps the file, blocks by it over real NFQUEUE,
# swaps it on reload, refuses a damaged one and keeps its running set, and
# never writes a confidential name anywhere.
. "$(dirname "$0")/lib.sh"
need_root
trap cleanup EXIT
net_up

SECRET=hidden-entry.invalid	# stands for a name on a confidential list
cat >"$T/hosts" <<HOSTS
10.77.9.1 allowed.test ok.ads.test
10.77.9.2 blocked.test ads.test www.ads.test newly.test
10.77.9.4 $SECRET sub.$SECRET
HOSTS
printf '%s\n' '# reserved names only' blocked.test >"$T/plain.domains"
printf '%s\n' '! adblock list' '||ads.test^' '@@||ok.ads.test^' \
	'||ads.test/path^' >"$T/ads.adblock"
printf 'sha256:%s\n' "$(printf %s "$SECRET" | sha256sum | cut -d' ' -f1)" \
	>"$T/abuse.hashes"

cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 9 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "testcat"; files = [ "plain.domains" ]; },
          { category = "ads"; files = [ "ads.adblock" ]; },
          { category = "abuse"; confidential = true; files = [ "abuse.hashes" ]; } );
block = [ "testcat", "ads", "abuse" ];
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; };
CONF

LISTS="$TOP/$BUILD/safegate-lists"
dig1() { in_lan dig +time=2 +tries=1 "$@"; }

# --- compiling -----------------------------------------------------------------
check_out "compile -c writes the config's lists_db" "wrote $T/lists.sgdb" \
	"$LISTS" compile -c "$T/sg.conf"
check_out "the adblock rule with a path is skipped and counted" \
	'^ads +1 +4 +1 +1 +0 +0 +1$' "$LISTS" compile -n -c "$T/sg.conf"
check_out "check verifies the set" 'ok: format version 1, 4 entries in 3 categories' \
	"$LISTS" check "$T/lists.sgdb"
check_out "lookup: a subdomain of an adblock rule" \
	'^www\.ads\.test	ads	ads\.test$' "$LISTS" lookup "$T/lists.sgdb" www.ads.test
check_out "lookup: the allow exception wins below the block" \
	'^ok\.ads\.test	-	-$' "$LISTS" lookup "$T/lists.sgdb" ok.ads.test
check_out "lookup: a confidential hit prints hashes, never the name" \
	'^sha256:[0-9a-f]{64}	abuse	hash:[0-9a-f]{64} list:2\(abuse\.hashes\)$' \
	"$LISTS" lookup "$T/lists.sgdb" "sub.$SECRET"
check_out "the compiled set does not hold the confidential name" '^0$' \
	grep -ac "$SECRET" "$T/lists.sgdb"
check_out "nor the names in clear" '^0$' grep -acE 'blocked|ads\.test' "$T/lists.sgdb"

# --- the daemon maps it ----------------------------------------------------------
dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1,127.0.0.1 "$T/hosts"
wait_dns dig1 @10.77.0.1 allowed.test || { not_ok "router dnsmasq answers"; exit 1; }
check_out "without safegated, the confidential name resolves" '10\.77\.9\.4' \
	dig1 @10.77.0.1 "$SECRET" +short
safegated_start "$T/sg.conf" || { not_ok "safegated starts"; exit 1; }
check_out "status: the set is mapped, not compiled" '^set mapped$' ctl status
check_out "a plain entry blocks" 'status: NXDOMAIN' dig1 @10.77.0.1 blocked.test
check_out "an adblock entry blocks its subdomains" 'status: NXDOMAIN' dig1 @10.77.0.1 www.ads.test
check_out "the allow exception resolves" '10\.77\.9\.1' dig1 @10.77.0.1 ok.ads.test +short
check_out "a confidential entry blocks" 'status: NXDOMAIN' dig1 @10.77.0.1 "$SECRET"
check_out "and its subdomains" 'status: NXDOMAIN' dig1 @10.77.0.1 "sub.$SECRET"
check_out "the event names the category, list and hash, not the name" \
	'"name":null,"qtype":"A","categories":\["abuse"\],"rule":"hash:[0-9a-f]{64}","list":"abuse\.hashes"' \
	cat "$T/events.jsonl"

# --- reload swaps the set; a damaged set changes nothing ---------------------------
check_out "before reload, newly.test resolves" '10\.77\.9\.2' dig1 @10.77.0.1 newly.test +short
sleep 0.01; echo newly.test >>"$T/plain.domains"
check "reload with a list newer than the set" ctl reload
check_out "the log says the set is older than the list" \
	'lists\.sgdb is older than .*plain\.domains' cat "$T/safegated.log"
check_out "and the edit is not in force yet" '10\.77\.9\.2' dig1 @10.77.0.1 newly.test +short
check "recompile" "$LISTS" compile -c "$T/sg.conf"
check "reload through safegatectl" ctl reload
check_out "after reload, newly.test is blocked" 'status: NXDOMAIN' dig1 @10.77.0.1 newly.test
head -c 1000 "$T/lists.sgdb" >"$T/trunc.sgdb"
mv "$T/trunc.sgdb" "$T/lists.sgdb"
check_out "a truncated set is refused on reload, with why" 'truncated' ctl reload
check_out "and the running set still blocks" 'status: NXDOMAIN' dig1 @10.77.0.1 newly.test
check_out "status: generation unchanged by the refused reload" '^generation 3$' ctl status
safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0

# --- a damaged set at start-up is refused -------------------------------------------
check_out "safegated refuses to start on a truncated set" 'lists\.sgdb: .*truncated' \
	in_rtr "$TOP/$BUILD/safegated" -f $SG_USER -c "$T/sg.conf"
printf 'garbage' | dd of="$T/lists.sgdb" bs=1 seek=300 conv=notrunc 2>/dev/null
"$LISTS" compile -c "$T/sg.conf" >/dev/null
printf 'garbage' | dd of="$T/lists.sgdb" bs=1 seek=300 conv=notrunc 2>/dev/null
check_out "check reports a damaged body" 'damaged \(checksum mismatch\)' "$LISTS" check "$T/lists.sgdb"

# --- a missing set is compiled at load ------------------------------------------------
cp "$T/safegated.log" "$T/safegated-1.log"
rm -f "$T/lists.sgdb"
safegated_start "$T/sg.conf" || { not_ok "safegated starts without a compiled set"; exit 1; }
check_out "status: the set was compiled at load" '^set compiled at load$' ctl status
check_out "and it blocks the same" 'status: NXDOMAIN' dig1 @10.77.0.1 "sub.$SECRET"
safegated_stop

check_out "the debug log marks the confidential query, unnamed" \
	'udp A \(confidential\) from 10\.77\.0\.2' cat "$T/safegated-1.log"
check_not_out "no file the daemon wrote holds the confidential name" "$SECRET" \
	cat "$T/events.jsonl" "$T/safegated-1.log" "$T/safegated.log"
check "no sanitizer report" no_sanitizer_report
finish
