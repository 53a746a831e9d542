#!/usr/bin/env bash
# config_swap.sh - the config file replaced while reloads run.
#
# Two valid configs differ only in what they block: A blocks both.test and
# a.test, B blocks both.test and b.test (one compiled set lists all three).
# For DURATION seconds, at once:
#
#   - a writer rewrites sg.conf with A and B in turn, 20 to 250 ms apart,
#     as editors do: half the time in place (open with O_TRUNC, the text
#     written in two pieces 2 ms apart, split at a random line), half by
#     rename of a whole file; one write in ten leaves a half-written file
#     (cut inside a statement) for 100 ms;
#   - safegatectl reload and SIGHUP, in turn, as fast as they are answered;
#   - a client queries both.test, a.test and b.test (RATE a second).
#
# Whatever the daemon loads must be A or B whole, or nothing (a refusal
# naming FILE:LINE, the running policy kept).  A config read half-way
# shows twice: it lacks the last line, the control socket, so the reload
# warns that the control socket "takes effect at the next start" (A and B
# have the same one); and if it ends before `block` (an empty file between
# the truncate and the write, say) it blocks nothing, and both.test, which
# A and B both block, is answered NOERROR to the queries of that moment.
# Every reply must be "generation N" or "error: FILE...".
# Then: the daemon is still up, a half-written file is refused with its
# FILE:LINE while A's policy stays, and a good file is taken again.
#
# Knobs: DURATION (15 s), RATE (150).
. "$(dirname "$0")/../e2e/lib.sh"
. "$(dirname "$0")/lib.sh"
need_root
command -v python3 >/dev/null || { echo "not ok - python3 missing: run 'make deps'"; exit 1; }
trap 'in_rtr "$TOP/$BUILD/safegated" -c "$T/sg.conf" -R down >/dev/null 2>&1; cleanup' EXIT
net_up
# The daemon may run as the user safegate (priv.h): $T readable, and what
# it writes (control socket, state, events) in folders it makes itself.
chmod 0755 "$T"
ctl() { in_rtr "$TOP/$BUILD/safegatectl" -s "$T/ctl/control.sock" "$@"; }

DURATION=${DURATION:-15}
RATE=${RATE:-150}

printf '%s\n' "10.77.9.1 both.test" "10.77.9.1 a.test" "10.77.9.1 b.test" >"$T/rtr.hosts"
for c in both a b; do printf '%s\n' '# reserved names only' "$c.test" >"$T/$c.domains"; done
conf_text() {	# conf_text CATEGORY: the config that blocks both and CATEGORY
	cat <<CONF
# config $1: blocks both.test and $1.test
queue = { numbers = [ 16 ]; fail_open = true; };
firewall = { manage = true; backend = "auto"; };
dns = { block_response = "nxdomain"; ttl = 60; };
lists_dir = "$T";
lists_db = "$T/lists.sgdb";
lists = ( { category = "both"; files = [ "both.domains" ]; },
          { category = "a"; files = [ "a.domains" ]; },
          { category = "b"; files = [ "b.domains" ]; } );
block = [ "both", "$1" ];
log = { level = "info"; };
control = { socket = "$T/ctl/control.sock"; };
CONF
}
conf_text a >"$T/A.conf"
conf_text b >"$T/B.conf"
cp "$T/A.conf" "$T/sg.conf"
"$TOP/$BUILD/safegate-lists" compile -c "$T/sg.conf" -o "$T/lists.sgdb" >"$T/compile.out" 2>&1 ||
	{ not_ok "compile the set"; cat "$T/compile.out"; exit 1; }


# writer SECONDS: rewrites sg.conf until then; one line per write in
# $T/writes: "inplace|rename|half A|B".
writer() {
	python3 - "$T" "$1" <<'PY'
import os, random, sys, time
d, secs = sys.argv[1], float(sys.argv[2])
path = d + "/sg.conf"
text = {k: open(d + "/%s.conf" % k, "rb").read() for k in "AB"}
log = open(d + "/writes", "w")
end = time.time() + secs; i = 0
while time.time() < end:
    k = "AB"[i % 2]; t = text[k]; i += 1
    if random.random() < 0.1:
        # half-written: cut inside the lists statement (a syntax error)
        cut = t.index(b"files = [ \"a.domains\"") + 12
        with open(path, "wb") as f: f.write(t[:cut])
        log.write("half %s\n" % k); log.flush()
        time.sleep(0.1)
        continue
    if random.random() < 0.5:
        lines = t.split(b"\n"); at = random.randrange(0, len(lines))
        first = b"\n".join(lines[:at]) + (b"\n" if at else b"")
        fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
        os.write(fd, first); time.sleep(0.002); os.write(fd, t[len(first):])
        os.close(fd)
        log.write("inplace %s\n" % k)
    else:
        with open(path + ".tmp", "wb") as f: f.write(t)
        os.rename(path + ".tmp", path)
        log.write("rename %s\n" % k)
    log.flush()
    time.sleep(random.uniform(0.02, 0.25))
PY
}

# reloader SECONDS: safegatectl reload and SIGHUP in turn until then; one
# line per reload in $T/reloads: "ctl REPLY" or "hup".
reloader() {
	local end=$(( $(date +%s) + $1 )) i=0 out
	: >"$T/reloads"
	while [ "$(date +%s)" -lt $end ]; do
		if [ $((i % 2)) = 0 ]; then
			out=$(ctl reload 2>&1 | head -1)
			echo "ctl $out" >>"$T/reloads"
		else
			kill -HUP "$SG_PID" && echo hup >>"$T/reloads"
			sleep 0.01
		fi
		i=$((i + 1))
	done
}

dnsmasq_start "$RTR" rtr-dnsmasq 10.77.0.1 "$T/rtr.hosts"
dig1() { in_lan dig +time=1 +tries=1 @10.77.0.1 "$@"; }
wait_dns dig1 both.test || { not_ok "router dnsmasq answers"; exit 1; }
sg_start || { not_ok "safegated starts"; exit 1; }
ok "safegated starts on config A"
check_out "A: both.test NXDOMAIN" 'status: NXDOMAIN' dig1 both.test
check_out "A: a.test NXDOMAIN" 'status: NXDOMAIN' dig1 a.test
check_out "A: b.test answered" '^10\.77\.9\.1$' dig1 b.test +short

load 10.77.0.1 "$RATE" "$DURATION" 1 "$T/answers" both.test a.test b.test &
lp=$!
writer "$DURATION" &
wp=$!
reloader "$DURATION"
wait $wp; wait $lp
cp "$T/A.conf" "$T/sg.conf.tmp"; mv "$T/sg.conf.tmp" "$T/sg.conf"

# What happened
w_in=$(grep -c '^inplace' "$T/writes"); w_rn=$(grep -c '^rename' "$T/writes"); w_half=$(grep -c '^half' "$T/writes")
r_ctl=$(grep -c '^ctl' "$T/reloads"); r_hup=$(grep -c '^hup' "$T/reloads")
r_gen=$(grep -cE '^ctl generation [0-9]+$' "$T/reloads")
r_err=$(grep -cE "^ctl error: $T/sg\\.conf(:[0-9]+)?: " "$T/reloads")
r_bad=$(grep -vE "^hup$|^ctl generation [0-9]+$|^ctl error: $T/sg\\.conf(:[0-9]+)?: " "$T/reloads" | wc -l)
l_ok=$(grep -c 'reloaded .*: generation' "$T/safegated.log")
l_fail=$(grep -c 'reload failed, keeping the running policy' "$T/safegated.log")
echo "# $DURATION s: writes $w_in in place, $w_rn by rename, $w_half half-written"
echo "# reloads: $r_ctl by safegatectl ($r_gen generation, $r_err refused), $r_hup by SIGHUP; log: $l_ok reloaded, $l_fail refused"
echo "# refusals, by reason:"
sed -n 's/.*reload failed, keeping the running policy: //p' "$T/safegated.log" |
	sed -E "s|^$T/||; s/:[0-9]+:/:LINE:/" | sort | uniq -c | sort -rn | head -8 | sed 's/^/#   /'
awk '{ c[$2 " " $3]++ } END { for (k in c) print k, c[k] }' "$T/answers" | sort | sed 's/^/#   answers: /'

check "the writer wrote both ways and left half-written files ($w_in, $w_rn, $w_half)" \
	test "$w_in" -gt 10 -a "$w_rn" -gt 10 -a "$w_half" -gt 0
check "reloads ran ($r_ctl + $r_hup)" test "$r_ctl" -gt 20 -a "$r_hup" -gt 20
check "some reloads took a new config ($l_ok), some were refused ($l_fail)" \
	test "$l_ok" -gt 0 -a "$l_fail" -gt 0
check "every safegatectl reply is 'generation N' or an error naming the file" test "$r_bad" = 0
check_not_out "every refusal names the file" "reload failed, keeping the running policy: (\$|[^/]|/[^t])" \
	grep -v "running policy: $T/sg\\.conf" "$T/safegated.log"
torn=$(grep -c 'take effect at the next start' "$T/safegated.log")
check "no half-read config was loaded ($torn reloads took a config without its last line)" test "$torn" = 0
check "queries ran ($(wc -l <"$T/answers"))" test "$(wc -l <"$T/answers")" -gt $((RATE * DURATION / 2))
check "no query lost" test "$(grep -c ' lost ' "$T/answers")" = 0
check_out "both.test (blocked by A and B) NXDOMAIN to every query: no half-read config was in force" \
	'^0$' sh -c "awk '\$2 == \"both.test\" && \$3 != \"NXDOMAIN\"' '$T/answers' | wc -l"
check "a.test and b.test were each blocked and allowed in turn (A and B both loaded)" \
	test "$(grep -c ' a\.test NXDOMAIN' "$T/answers")" -gt 0 -a "$(grep -c ' a\.test NOERROR' "$T/answers")" -gt 0 \
	-a "$(grep -c ' b\.test NXDOMAIN' "$T/answers")" -gt 0 -a "$(grep -c ' b\.test NOERROR' "$T/answers")" -gt 0
check "safegated is still running" kill -0 "$SG_PID"

# The end state, one step at a time: A taken, a half-written B refused.
check_out "A (written by rename) is taken" '^generation [0-9]+$' ctl reload
gen=$(ctl status | awk '$1 == "generation" { print $2 }')
cut=$(grep -n 'files = \[ "a.domains"' "$T/B.conf" | cut -d: -f1)
head -c "$(( $(grep -b -o 'files = \[ "a.domains"' "$T/B.conf" | cut -d: -f1) + 12 ))" "$T/B.conf" >"$T/sg.conf"
check_out "a half-written B is refused with FILE:LINE" "^error: $T/sg\\.conf:$cut: " ctl reload
sed 's/^/#   reply: /' "$T/last.out"
check_out "... the generation unchanged" "^generation $gen\$" ctl status
check_out "... A's policy in force: a.test NXDOMAIN" 'status: NXDOMAIN' dig1 a.test
check_out "... b.test answered" '^10\.77\.9\.1$' dig1 b.test +short
cp "$T/B.conf" "$T/sg.conf"
check_out "B whole is taken" "^generation $((gen + 1))\$" ctl reload
check_out "B: b.test NXDOMAIN" 'status: NXDOMAIN' dig1 b.test
check_out "B: a.test answered" '^10\.77\.9\.1$' dig1 a.test +short
: >"$T/sg.conf"
check_out "an empty file (the instant between an in-place truncate and its write) is refused" \
	"^error: $T/sg\\.conf" ctl reload
check_out "... both.test still NXDOMAIN" 'status: NXDOMAIN' dig1 both.test
safegated_stop
check "a clean stop exits 0" test "$SG_STATUS" = 0
check "no sanitizer report" no_sanitizer_report
finish
