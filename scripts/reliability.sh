#!/usr/bin/env bash
# CI job of docs/reliability.md: the test suite under ASan + UBSan (scripts/sanitize.sh), then every
# libFuzzer harness briefly (scripts/fuzz.sh: 100000 runs or 60 s each). Fails on any report.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

start=$SECONDS
bash scripts/sanitize.sh
sanitized=$SECONDS
bash scripts/fuzz.sh
echo "reliability.sh: sanitizers $((sanitized - start)) s, fuzzing $((SECONDS - sanitized)) s"
