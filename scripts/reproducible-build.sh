#!/usr/bin/env bash
# Builds the release binary of a commit twice, from two clean clones in different
# directories, and checks that both are byte for byte the same (SHA-256). Also writes
# the CycloneDX SBOM of the build beside the binary when cargo-cyclonedx is installed.
#
#   scripts/reproducible-build.sh [REV] [OUT]
#
# REV defaults to HEAD; OUT (default ./release) receives `mpc`, `mpc.sha256` and
# `mpc.cdx.json`. A ceremony team runs this on a machine it trusts and compares the
# SHA-256 with the one of the binary it carries across the air gap (README "Checking
# the binary you carry").
#
# What makes the build reproducible: `--locked` (the exact dependency versions of
# Cargo.lock), paths remapped (`--remap-path-prefix`: the clone to /mpc, the cargo
# home to /cargo), SOURCE_DATE_EPOCH set to the commit's time, and nothing
# time-dependent recorded at build time (build.rs records the commit, the compiler and
# the crate versions only). The same toolchain (rustc version and target) is needed:
# `mpc version` names both.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-HEAD}
out=${2:-$PWD/release}
commit=$(git -C "$repo" rev-parse --verify "$rev^{commit}")
cargo_home=${CARGO_HOME:-$HOME/.cargo}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

build() {
  local dir=$1
  git clone -q --no-local "$repo" "$dir"
  git -C "$dir" checkout -q "$commit"
  (
    cd "$dir"
    export SOURCE_DATE_EPOCH
    SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
    export CARGO_TARGET_DIR="$dir/target"
    export RUSTFLAGS="--remap-path-prefix=$dir=/mpc --remap-path-prefix=$cargo_home=/cargo"
    export CFLAGS="-ffile-prefix-map=$dir=/mpc -ffile-prefix-map=$cargo_home=/cargo"
    cargo build --release --locked --quiet
  )
  sha256sum "$dir/target/release/mpc" | cut -d' ' -f1
}

echo "building $commit in two clean clones (this takes a while: GMP and every crate twice)"
a=$(build "$work/one/mpc")
echo "first:  $a"
b=$(build "$work/second-place/elsewhere/mpc")
echo "second: $b"
if [ "$a" != "$b" ]; then
  echo "error: the two builds differ" >&2
  exit 1
fi
mkdir -p "$out"
cp "$work/one/mpc/target/release/mpc" "$out/mpc"
echo "$a  mpc" > "$out/mpc.sha256"
if command -v cargo-cyclonedx >/dev/null 2>&1; then
  (cd "$work/one/mpc" && cargo cyclonedx --format json --spec-version 1.5 -q >/dev/null \
    && cp mpc.cdx.json "$out/mpc.cdx.json") || echo "warning: no SBOM written" >&2
else
  echo "note: cargo-cyclonedx is not installed; no SBOM written (cargo install cargo-cyclonedx)" >&2
fi
echo "reproducible: $a"
echo "written to $out"
