#!/usr/bin/env bash
# Builds the prebuilt binaries for every target in package.json `napi.targets` (linux x64 gnu, x64 musl,
# arm64 gnu) on one Linux x64 machine, with cargo-zigbuild and zig as the linker (`napi build -x`).
# Both come from PyPI (`ziglang`, `cargo-zigbuild`) and are installed here if missing; the Rust
# standard libraries come from `rustup target add`. Nothing of this is needed by `npm install`.
#
#   npm run build:cross                 # into target/cross/ (git-ignored)
#   npm run build:cross -- OUT_DIR      # elsewhere, e.g. a temp dir
#   npx napi artifacts -d target/cross  # then copies each .node into npm/<platform>/ for publishing
#
# The glibc targets are pinned to glibc 2.17 (`<triple>.2.17`, cargo-zigbuild's version suffix): the
# binary then loads on any distribution with glibc >= 2.17, not only on one as new as the build
# machine's. The musl target links musl dynamically (napi adds `-C target-feature=-crt-static`).
# Prints the wall time and `file` output of each build; exits non-zero if one fails.
set -euo pipefail
cd "$(dirname "$0")/.."

out="${1:-target/cross}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

python="$(command -v python3 || command -v python)"
if ! command -v zig >/dev/null && ! "$python" -m ziglang version >/dev/null 2>&1; then
  echo "== installing zig (PyPI ziglang)"
  "$python" -m pip install --quiet ziglang
fi
if ! command -v cargo-zigbuild >/dev/null; then
  echo "== installing cargo-zigbuild (PyPI)"
  "$python" -m pip install --quiet cargo-zigbuild
  hash -r
fi

# package.json napi.targets, read with node so the list lives in one place.
mapfile -t targets < <(node -p "require('./package.json').napi.targets.join('\n')")
installed="$(rustup target list --installed 2>/dev/null || true)"

declare -a summary=()
for target in "${targets[@]}"; do
  if [[ -n "$installed" ]] && ! grep -qx "$target" <<<"$installed"; then
    echo "== rustup target add $target"
    rustup target add "$target"
  fi
  request="$target"
  [[ "$target" == *-linux-gnu ]] && request="$target.2.17"
  echo "== napi build --platform --release --target $request -x --output-dir $out"
  start=$(date +%s)
  npx napi build --platform --release --target "$request" -x --output-dir "$out"
  secs=$(($(date +%s) - start))
  # napi names the file after the platform: native-sse.linux-x64-musl.node and so on.
  platform="$(node -e "
    const t = process.argv[1].split('-')
    const arch = { x86_64: 'x64', aarch64: 'arm64' }[t[0]] ?? t[0]
    console.log(['linux', arch, t[3]].join('-'))" "$target")"
  node_file="$out/native-sse.$platform.node"
  file "$node_file"
  # A shared object has no interpreter to tell glibc from musl: its NEEDED libraries do (libc.so.6
  # vs musl's libc.so), and the newest GLIBC_ symbol version is the oldest glibc that can load it.
  needed="$(readelf -d "$node_file" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
  glibc="$(readelf -V --wide "$node_file" | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1 || true)"
  glibc="${glibc:+newest symbol $glibc}"
  summary+=("$target: ${secs}s, needs ${needed}(${glibc:-no GLIBC_ symbols})")
done

echo "== wall time and linkage per target"
printf '%s\n' "${summary[@]}"
echo "== outputs in $out"
file "$out"/*.node
