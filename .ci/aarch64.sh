#!/usr/bin/env bash
# CI: cross-build the workspace for aarch64-unknown-linux-gnu and run the kernel's tests under
# qemu-user (the portable SIMD path, i.e. NEON). Installs what it needs (rustup target, cross gcc,
# arm64 libc, qemu-user) when missing. Linker and runner are set here, in this script's
# environment only, not in a .cargo/config.toml, so a plain `cargo build` is unaffected.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=aarch64-unknown-linux-gnu
SYSROOT=/usr/aarch64-linux-gnu
START=$SECONDS

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo is required (rustup.rs)" >&2
  exit 1
fi

echo "== toolchain for $TARGET"
if ! rustup target list --installed | grep -qx "$TARGET"; then
  rustup target add "$TARGET"
fi
if ! command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 \
  || ! command -v qemu-aarch64 >/dev/null 2>&1 \
  || [ ! -e "$SYSROOT/lib/ld-linux-aarch64.so.1" ] \
  || [ ! -e "$SYSROOT/include/stdio.h" ]; then
  SUDO=
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user >/dev/null
fi
rustup component add clippy >/dev/null 2>&1 || true

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L $SYSROOT"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
export AR_aarch64_unknown_linux_gnu=aarch64-linux-gnu-ar
# The Python extension (crates/deeptransport-py, PyO3 with abi3) cross-compiles without an
# aarch64 Python: clippy needs no interpreter for an abi3 target, and linking the cdylib as an
# extension module (no libpython, as maturin builds it) needs no aarch64 libpython either.
export PYO3_BUILD_EXTENSION_MODULE=1

echo "== cargo clippy --target $TARGET --all-targets -- -D warnings"
cargo clippy --target "$TARGET" --workspace --all-targets -- -D warnings

echo "== cargo build --release --target $TARGET --workspace"
cargo build --release --target "$TARGET" --workspace

echo "== kernel tests under qemu-aarch64 (lib unit tests, kernel_properties, kernel_outliers, kernel_f32, sinkhorn)"
cargo test --release --target "$TARGET" -p deeptransport \
  --lib --test kernel_properties --test kernel_outliers --test kernel_f32 --test sinkhorn

echo "== deeptransport --version under qemu-aarch64"
version=$(qemu-aarch64 -L "$SYSROOT" "${CARGO_TARGET_DIR:-target}/$TARGET/release/deeptransport" --version)
echo "$version"
for want in "SIMD path: portable" "target: aarch64-linux"; do
  if ! grep -qF "$want" <<<"$version"; then
    echo "deeptransport --version under qemu-aarch64 does not say '$want'" >&2
    exit 1
  fi
done

echo "== aarch64 done in $((SECONDS - START)) s"
