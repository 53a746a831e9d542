#!/usr/bin/env bash
# run.sh BUILD - runs every bypass test (tests/bypass/*.sh but lib.sh and
# run.sh), each in namespaces of its own, through the real daemon.  Needs
# root, and BUILD's safegated, safegatectl and tools (sg-udp, sg-hello).
# What each technique does and why: tests/bypass/RESULTS.md.
set -u
export BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
status=0
start=$(date +%s)
for t in tests/bypass/*.sh; do
	case $t in */lib.sh|*/run.sh) continue ;; esac
	echo "# $t"
	if ! bash "$t"; then status=1; echo "# FAILED: $t"; fi
done
echo "# bypass suite: $(($(date +%s) - start)) s"
exit $status
