#!/usr/bin/env bash
# Fuzzes scenario parsing, validation and a short checked run, seeded with
# every shipped scenario. Needs a nightly toolchain and cargo-fuzz:
#   rustup toolchain install nightly && cargo install cargo-fuzz
# Usage: fuzz/run.sh [RUNS]   (default 1,000,000 executions)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/scenario
find ../scenarios ../tests/data ../tests/regressions -name '*.toml' -exec cp {} corpus/scenario/ \;
exec cargo +nightly fuzz run scenario corpus/scenario -- -runs="${1:-1000000}" -max_len=16384 -timeout=10 \
  -print_final_stats=1
