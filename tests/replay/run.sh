#!/usr/bin/env bash
# run.sh BUILD [SHARED] - the replay against tshark, over the real corpus.
#
# Every capture in SHARED/corpus/pcap (SHARED: the argument, else $SHARED,
# else ../shared) is replayed by BUILD/safegated --replay --json with a
# config that blocks nothing (its set is compiled in a temporary directory
# from one list of a reserved name, so nothing real is mapped).  The names
# it decided are compared, per capture and kind, with tshark's in
# SHARED/corpus/oracle/CAPTURE.summary.tsv (see SHARED/corpus/README.md):
#
#   dns_query_name  <- "dns" decisions (queries only: responses are not)
#   tls_sni         <- "tls" decisions with a name
#   quic_sni        <- "quic" decisions with a name
#   http_host       <- "http" decisions with a name
#   client_hello_without_sni <- "tls"/"quic" decisions with no_sni, as
#                      "frame N" (tshark's frame that completed the hello)
#
# Both sides are normalised alike: lower case, no trailing dot, the port
# taken off an HTTP host (and the brackets off an IPv6 one), bytes that are
# not printable ASCII as \ooo (tshark's form).  tshark's placeholders for
# names it could not decode ("<Name too long>", ...) mean "no name" and are
# not compared; "<Root>" is the root name, "".
#
# Every difference must be listed in tests/replay/expected-differences.tsv
# (capture, kind, name, side, reason; side is only_tshark or only_replay),
# and every listed one must still occur: the run fails otherwise.  A replay
# that exits non-zero is a difference of kind "exit", name "-".
# UPDATE=1 prints the rows to add for undocumented differences (with an
# empty reason, to be written by hand).
set -u
B=${1:?usage: run.sh BUILD [SHARED]}
cd "$(dirname "$0")/../.." || exit 1
SH=${2:-${SHARED:-../shared}}
PCAPS=$SH/corpus/pcap
ORACLE=$SH/corpus/oracle
BIN=$B/safegated
EXPECTED=tests/replay/expected-differences.tsv

if [ ! -d "$PCAPS" ] || [ ! -d "$ORACLE" ]; then
	echo "ok - replay-test skipped: no corpus at $SH/corpus" \
	    "(set SHARED=dir holding corpus/pcap and corpus/oracle)"
	exit 0
fi
[ -x "$BIN" ] || { echo "not ok - $BIN not built"; exit 1; }
PY=$(command -v python3) ||
    { echo "not ok - replay-test needs python3"; exit 1; }

T=$(mktemp -d) || exit 1
trap 'rm -rf "$T"' EXIT
mkdir -p "$T/lists" "$T/out"
# RFC 2606: a name no capture asks for, so the set is not empty.
echo "blocked.invalid" >"$T/lists/replay.domains"
cat >"$T/replay.conf" <<EOF
lists_dir = "$T/lists";
lists_db = "$T/absent.sgdb";
lists = ( { category = "replaytest"; files = [ "replay.domains" ]; } );
block = [ ];
log = { events = "$T/events.jsonl"; };
control = { socket = "$T/control.sock"; };
EOF

for p in "$PCAPS"/*; do
	[ -f "$p" ] || continue
	n=$(basename "$p")
	"$BIN" --replay "$p" -c "$T/replay.conf" --json \
	    >"$T/out/$n.jsonl" 2>"$T/out/$n.err"
	echo $? >"$T/out/$n.rc"
done
if [ -e "$T/events.jsonl" ]; then
	echo "not ok - the replay wrote an event log"
	exit 1
fi

exec "$PY" - "$T/out" "$ORACLE" "$EXPECTED" "${UPDATE:-0}" <<'PYEOF'
import json, os, re, sys

outdir, oracle, expected_path, update = sys.argv[1:5]
KINDS = ["dns_query_name", "tls_sni", "quic_sni", "http_host",
         "client_hello_without_sni"]
OURS = {"dns": "dns_query_name", "tls": "tls_sni", "quic": "quic_sni",
        "http": "http_host"}
PLACEHOLDER = re.compile(r"^<(Name too long|Name contains a pointer that "
                         r"loops|Unknown extended label)>$")


def escape(s):
    """Bytes (as code points 0-255) in tshark's form: \\ooo."""
    out = []
    for ch in s:
        o = ord(ch)
        if o <= 0x20 or o >= 0x7f or ch == "\\":
            out.append("\\%03o" % o)
        else:
            out.append(ch)
    return "".join(out)


def lower_ascii(s):
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


def unescape_tshark(s):
    """tshark writes \\ooo (and a few C escapes) for odd bytes."""
    def rep(m):
        t = m.group(1)
        if t[0] in "01234567":
            return chr(int(t, 8))
        return {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                "t": "\t", "v": "\v", "\\": "\\"}.get(t, t)
    return re.sub(r"\\([0-7]{3}|[abfnrtv\\])", rep, s)


def norm_name(s):
    s = lower_ascii(s)
    if s.endswith("."):
        s = s[:-1]
    return escape(s)


def strip_port(h):
    if h.startswith("["):
        end = h.find("]")
        return h[1:end] if end > 0 else h
    if h.count(":") == 1:
        return h.split(":", 1)[0]
    return h


def tshark_names(capture):
    names = {k: set() for k in KINDS}
    path = os.path.join(oracle, capture + ".summary.tsv")
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) < 2 or parts[0] not in names:
                continue
            kind, value = parts[0], parts[1]
            if kind == "client_hello_without_sni":
                names[kind].add(value)
                continue
            if value == "<Root>":
                value = ""
            elif PLACEHOLDER.match(value):
                continue
            value = unescape_tshark(value)
            if kind == "http_host":
                value = strip_port(value)
            names[kind].add(norm_name(value))
    return names


def replay_names(capture):
    names = {k: set() for k in KINDS}
    with open(os.path.join(outdir, capture + ".jsonl")) as f:
        for line in f:
            d = json.loads(line)
            kind = OURS.get(d.get("kind"))
            if kind is None:
                raise ValueError("unknown kind in %r" % line)
            if d.get("no_sni"):
                if d["kind"] in ("tls", "quic"):
                    names["client_hello_without_sni"].add(
                        "frame %d" % d["frame"])
                continue
            if d.get("name") is None:
                continue
            names[kind].add(norm_name(d["name"]))
    return names


expected = {}
with open(expected_path, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 5 or parts[3] not in ("only_tshark", "only_replay"):
            print("not ok - %s:%d: want capture, kind, name, side "
                  "(only_tshark|only_replay), reason" % (expected_path, n))
            sys.exit(1)
        if not parts[4].strip():
            print("not ok - %s:%d: no reason given" % (expected_path, n))
            sys.exit(1)
        expected[tuple(parts[:4])] = parts[4]

captures = sorted(f[:-len(".jsonl")] for f in os.listdir(outdir)
                  if f.endswith(".jsonl"))
compared = {k: 0 for k in KINDS}
agreed = {k: 0 for k in KINDS}
decisions = 0
seen, undocumented = set(), []
for cap in captures:
    rc = open(os.path.join(outdir, cap + ".rc")).read().strip()
    if rc != "0":
        key = (cap, "exit", "-", "only_tshark")
        seen.add(key)
        if key not in expected:
            err = open(os.path.join(outdir, cap + ".err")).read()
            undocumented.append((key, "exit %s: %s" % (rc, err.strip())))
    theirs = tshark_names(cap)
    if theirs is None:
        print("not ok - %s: no oracle summary" % cap)
        undocumented.append(((cap, "oracle", "-", "only_replay"), ""))
        continue
    try:
        ours = replay_names(cap)
    except (ValueError, KeyError) as e:
        print("not ok - %s: unreadable output: %s" % (cap, e))
        sys.exit(1)
    decisions += sum(1 for _ in open(os.path.join(outdir, cap + ".jsonl")))
    for k in KINDS:
        compared[k] += len(ours[k] | theirs[k])
        agreed[k] += len(ours[k] & theirs[k])
        for side, diff in (("only_tshark", theirs[k] - ours[k]),
                           ("only_replay", ours[k] - theirs[k])):
            for name in sorted(diff):
                key = (cap, k, name, side)
                seen.add(key)
                if key not in expected:
                    undocumented.append((key, ""))

stale = sorted(set(expected) - seen)
print("replay-test: %d captures, %d decisions" % (len(captures), decisions))
print("  %-26s %8s %8s %8s" % ("kind", "names", "agree", "differ"))
for k in KINDS:
    print("  %-26s %8d %8d %8d" % (k, compared[k], agreed[k],
                                    compared[k] - agreed[k]))
print("  documented differences: %d (of %d listed), undocumented: %d, "
      "listed but gone: %d" % (len(seen & set(expected)), len(expected),
                               len(undocumented), len(stale)))
for key, why in undocumented:
    if update == "1":
        print("\t".join(key) + "\t")
    else:
        print("not ok - undocumented difference: %s %s %r %s%s"
              % (key[0], key[1], key[2], key[3],
                 (": " + why) if why else ""))
for key in stale:
    print("not ok - listed difference no longer occurs: %s %s %r %s"
          % key)
if undocumented or stale:
    sys.exit(1)
print("ok - replay-test")
PYEOF
