#!/usr/bin/env bash
# run.sh BUILD - runs every fault test (tests/faults/*.sh but run.sh and
# lib*.sh): each builds its own namespaces with tests/e2e/lib.sh.
set -u
export BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
status=0
for t in tests/faults/*.sh; do
	case $t in */run.sh|*/lib*.sh) continue ;; esac
	echo "# $t"
	if ! bash "$t"; then status=1; echo "# FAILED: $t"; fi
done
exit $status
