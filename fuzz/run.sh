#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (default 60 s each): bash fuzz/run.sh [SECONDS]
# Crashes land in fuzz/artifacts/<target>/; copy each into tests/fuzz_regressions/<target>/
# so that `cargo test` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-60}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
# cargo-fuzz needs nightly flags; the one stable toolchain here accepts them this way.
export RUSTC_BOOTSTRAP=1
# The store target starts from real stores.
mkdir -p corpus/store_file
[ -e corpus/store_file/demo.db ] || cargo run --quiet --manifest-path ../Cargo.toml -- demo --out corpus/store_file/demo.db >/dev/null
for target in payload jq_payload targeted_read map_spec diff time_bound store_file printable; do
  mkdir -p "corpus/$target"
  echo "== $target ($seconds s)"
  cargo fuzz run "$target" "corpus/$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=65536
done
