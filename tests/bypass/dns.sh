#!/usr/bin/env bash
# dns.sh - DNS tricks against the block, through the real daemon, NFQUEUE,
# dnsmasq and dig (or dnsq.py, for what dig cannot send).
#
# The router's dnsmasq knows every test name (10.78.0.10) and forwards
# nothing; it also has a CNAME (alias.test -> blocked.test) and an MX
# (mail.test -> blocked.test, whose address dnsmasq adds to the additional
# section), standing in for a zone a child controls.  The block list holds
# blocked.test, one name in punycode (bücher.test) and one in Unicode
# (köln.test).  "dnsmasq never saw it" is read from dnsmasq's query log.
. "$(dirname "$0")/lib.sh"
bp_need
trap cleanup EXIT
net_up
wan_up

cat >"$T/rtr.hosts" <<HOSTS
10.78.0.10 allowed.test blocked.test www.blocked.test xn--bcher-kva.test xn--kln-sna.test
fd78::10 allowed.test blocked.test www.blocked.test
HOSTS
printf '%s\n' '# bypass dns.sh: reserved names only' blocked.test \
	xn--bcher-kva.test 'köln.test' >"$T/testcat.domains"
cat >"$T/sg.conf" <<CONF
queue = { numbers = [ 71 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
dhcp_leases = "";
lists = ( { category = "testcat"; files = [ "testcat.domains" ]; } );
block = [ "testcat" ];
log = { events = "$T/events.jsonl"; level = "debug"; };
control = { socket = "$T/control.sock"; };
CONF

RLOG=$T/rtr-dnsmasq.log
dnsmasq_with "$RTR" rtr-dnsmasq 10.77.0.1,fd77::1,127.0.0.1 "$T/rtr.hosts" \
	--cname=alias.test,blocked.test --mx-host=mail.test,blocked.test,10
dnsmasq_start "$WAN" wan-dnsmasq 10.78.0.2,fd78::2 "$T/rtr.hosts"
d() { in_lan dig +time=2 +tries=1 "$@" 2>&1; }
dq() { in_lan python3 "$BP/dnsq.py" "$@" 2>&1; }
wait_dns d @10.77.0.1 allowed.test || { not_ok "setup: dnsmasq answers"; exit 1; }
wait_dns d @10.78.0.2 allowed.test || { not_ok "setup: wan dnsmasq answers"; exit 1; }
wan_wait
# Without safegated every trick below gets its answer, so what follows
# shows the daemon's doing, not dnsmasq's.
check_out "setup: without safegated, a mixed-case blocked.test is answered" \
	'10\.78\.0\.10' d @10.77.0.1 bLoCkEd.TeSt +short
check_out "setup: without safegated, two questions in one TCP segment are answered" \
	'^answer rcode NOERROR.*\n?' dq tcp 10.77.0.1 one allowed.test blocked.test
check_out "setup: without safegated, alias.test is a CNAME to blocked.test" \
	'blocked\.test' d @10.77.0.1 alias.test +short
safegated_start "$T/sg.conf" || { not_ok "setup: safegated starts"; exit 1; }
ok "setup: safegated starts"

# nx_unseen NAME_ERE DIG_ARGS...: the answer is NXDOMAIN, and dnsmasq
# logged no question matching NAME_ERE meanwhile.
nx_unseen() {
	local pat=$1 m out; shift
	m=$(log_mark "$RLOG")
	out=$("$@")
	want answer 'status: NXDOMAIN|rcode NXDOMAIN' "$out" || return 1
	want_not "dnsmasq's log" "query\[[A-Z]+\] ($pat) from" \
	    "$(log_since "$RLOG" "$m")"
}

# --- names in other spellings ------------------------------------------------
# 0x20: resolvers match names without case; so does safegate, and its
# answer echoes the question's case, as a 0x20 client checks.
case_0x20() {
	nx_unseen '[bB][lL][oO][cC][kK][eE][dD]\.[tT][eE][sS][tT]' \
	    d @10.77.0.1 bLoCkEd.TeSt || return 1
	want "the echoed question" '^;bLoCkEd\.TeSt\.[[:space:]]+IN' \
	    "$(d @10.77.0.1 bLoCkEd.TeSt)"
}
holds "mixed-case name (0x20)" case_0x20

# A trailing dot is not on the wire: every name ends in the root label,
# so "blocked.test." is the same query.  What can differ is a dot inside
# a label ("blocked\.test", one label): it may only match more entries.
dots() {
	nx_unseen 'blocked\.test' d @10.77.0.1 blocked.test. || return 1
	nx_unseen 'blocked\\?\.test' d @10.77.0.1 'blocked\.test'
}
holds "trailing dot; a dot inside a label" dots

# IDN: lists are punycode inside (a Unicode entry is converted when it is
# compiled), and queries are punycode on the wire (dig, browsers and
# getaddrinfo convert), so either spelling meets the other.
holds "IDN: list entry in punycode, query in Unicode (bücher.test)" \
	nx_unseen 'xn--bcher-kva\.test' d @10.77.0.1 +idnin 'bücher.test'
holds "IDN: list entry in Unicode (köln.test), query in punycode" \
	nx_unseen 'xn--kln-sna\.test' d @10.77.0.1 xn--kln-sna.test
# Raw UTF-8 on the wire is another DNS name: safegate does not match it
# (it compares bytes, and its lists are punycode), but neither does any
# zone: registries delegate only punycode, and no resolver finds an
# address for it.
utf8_raw() {
	local out m
	m=$(log_mark "$RLOG")
	out=$(d @10.77.0.1 +noidnin 'köln.test')
	want_not "answer" '10\.78\.0\.10' "$out" || return 1
	want "the query went on to dnsmasq (safegate did not match it)" \
	    'query\[A\] (k.*ln\.test|<name unprintable>) from 10\.77\.0\.2' "$(log_since "$RLOG" "$m")"
}
limit "IDN: raw UTF-8 query for köln.test" \
	"not matched: safegate compares bytes, lists are punycode (no zone has the UTF-8 name: no address comes back)" utf8_raw

# --- the message's shape ------------------------------------------------------
edns() {
	local out
	nx_unseen 'blocked\.test' d @10.77.0.1 blocked.test +padding=128 +nsid \
	    +cookie +subnet=192.0.2.0/24 +ednsopt=65001:cafe +dnssec || return 1
	out=$(d @10.77.0.1 blocked.test +padding=468 +bufsize=4096 +ednsopt=12:00)
	want "the answer's OPT" 'EDNS: version: 0' "$out" &&
	want "the answer" 'status: NXDOMAIN' "$out"
}
holds "EDNS padding and options" edns

questions() {
	nx_unseen 'blocked\.test' dq udp 10.77.0.1 allowed.test blocked.test || return 1
	nx_unseen 'blocked\.test' dq udp 10.77.0.1 blocked.test allowed.test/AAAA || return 1
	# more questions than safegate reads (4): dropped, never passed
	local b out
	b=$(stat drop_malformed)
	out=$(dq udp 10.77.0.1 a.allowed.test b.allowed.test c.allowed.test \
	    d.allowed.test blocked.test)
	want "five questions" '^timeout$' "$out" && more drop_malformed "$b"
}
holds "several questions in one message" questions

tcp_two() {
	local out m
	m=$(log_mark "$RLOG")
	out=$(dq tcp 10.77.0.1 one allowed.test blocked.test)
	want "allowed then blocked, one segment" '^reset$' "$out" || return 1
	out=$(dq tcp 10.77.0.1 one blocked.test allowed.test)
	want "blocked then allowed, one segment" '^reset$' "$out" || return 1
	# one query per segment on one connection: each is judged
	out=$(dq tcp 10.77.0.1 seq allowed.test blocked.test | tr '\n' ' ')
	want "allowed answered, then blocked reset" \
	    '^answer rcode NOERROR .*10\.78\.0\.10 reset $' "$out" || return 1
	want_not "dnsmasq's log" 'blocked\.test from' "$(log_since "$RLOG" "$m")"
}
holds "DNS over TCP: two queries in one segment" tcp_two

# A query cut inside the message (its length bytes first): safegate has no
# stream reassembly, and drops what it cannot read whole; a retransmission
# that joins the pieces is judged.
tcp_split() {
	local out m b
	m=$(log_mark "$RLOG")
	b=$(stat drop_tcp_partial)
	out=$(dq tcp 10.77.0.1 split blocked.test)
	want "a blocked query in two segments" '^(reset|timeout|closed)$' "$out" || return 1
	more drop_tcp_partial "$b" || return 1
	want_not "dnsmasq's log" 'blocked\.test from' "$(log_since "$RLOG" "$m")"
}
holds "DNS over TCP: one query split across segments" tcp_split

v6() {
	nx_unseen 'blocked\.test' d @fd77::1 blocked.test AAAA || return 1
	nx_unseen 'www\.blocked\.test' d @10.77.0.1 www.blocked.test AAAA || return 1
	want "AAAA to an outside resolver over IPv6" 'status: NXDOMAIN' \
	    "$(d @fd78::2 blocked.test AAAA)"
}
holds "IPv6-only lookups (AAAA, over IPv6)" v6

# --- answers: safegate judges questions, never answers -------------------------
# The router's resolver follows a CNAME itself and returns the whole chain;
# safegate never sees a question for the target.  Judging answers needs
# the responses queued (sport 53, OUTPUT and FORWARD) and read: not cheap.
# What holds instead: a connection named after the target is judged.
cname() {
	local out b
	out=$(d @10.77.0.1 alias.test +noall +answer)
	want "the chain gets through" 'alias\.test\..*CNAME[[:space:]]+blocked\.test\.' "$out" &&
	want "with the target's address" 'blocked\.test\..*A[[:space:]]+10\.78\.0\.10' "$out" || return 1
	b=$(stat drop_blocked_reset)
	out=$(tlsc 10.78.0.10 443 blocked.test plain)
	want "TLS named blocked.test to that address" '^reset$' "$out" &&
	more drop_blocked_reset "$b"
}
limit "CNAME chain to a blocked name" \
	"answers are not judged, only questions (a TLS or HTTP connection named after the target is reset)" cname

additional() {
	local out b
	out=$(d @10.77.0.1 mail.test MX +noall +answer +additional)
	want "the blocked name's address in the additional section" \
	    'blocked\.test\..*A[[:space:]]+10\.78\.0\.10' "$out" || return 1
	# stub resolvers take no address from another question's additional
	# section (RFC 5452): they ask, and that question is judged
	want "a question for the name itself" 'status: NXDOMAIN' \
	    "$(d @10.77.0.1 blocked.test)" || return 1
	b=$(stat drop_blocked_reset)
	out=$(tlsc 10.78.0.10 443 blocked.test plain)
	want "TLS named blocked.test" '^reset$' "$out" && more drop_blocked_reset "$b"
}
limit "an answer for a blocked name in the additional section" \
	"answers are not judged (the blocked name's own question is, and so is a connection named after it)" additional

safegated_stop
check "the daemon stopped cleanly" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
finish
