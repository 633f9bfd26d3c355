#!/usr/bin/env bash
# Fuzzes scenario parsing, validation and a short checked run, seeded with
# every shipped scenario and 400 swarm scenarios (heavy shapes included:
# big fleets with crashes, long lists, extreme presets). Each input may take
# at most 10 s and 2 GiB (libFuzzer's caps; the target's own are tighter).
# Needs cargo-fuzz (`cargo install cargo-fuzz`); with a nightly toolchain it
# runs under AddressSanitizer, on stable without a sanitizer.
# Usage: fuzz/run.sh [RUNS]   (default 1,000,000 executions)
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p corpus/scenario
find ../scenarios ../tests/data ../tests/regressions -name '*.toml' -exec cp {} corpus/scenario/ \;
swarm=$(mktemp -d)
trap 'rm -rf "$swarm"' EXIT
cargo run --quiet --release --manifest-path ../Cargo.toml -- swarm --seeds 400 --write-only --out "$swarm"
cp "$swarm"/swarm-*.toml corpus/scenario/
toolchain=() sanitizer=(--sanitizer none)
if rustup toolchain list 2>/dev/null | grep -q nightly; then toolchain=(+nightly) sanitizer=(); fi
exec cargo "${toolchain[@]}" fuzz run "${sanitizer[@]}" scenario corpus/scenario -- -runs="${1:-1000000}" \
  -max_len=65536 -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
