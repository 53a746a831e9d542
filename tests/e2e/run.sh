#!/usr/bin/env bash
# run.sh BUILD - runs every end-to-end test (tests/e2e/*.sh but lib.sh).
set -u
export BUILD=${1:-build}
cd "$(dirname "$0")/../.." || exit 1
status=0
for t in tests/e2e/*.sh; do
	case $t in */lib.sh|*/run.sh) continue ;; esac
	echo "# $t"
	if ! bash "$t"; then status=1; echo "# FAILED: $t"; fi
done
exit $status
