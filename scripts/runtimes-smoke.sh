#!/usr/bin/env bash
# Bun and Deno load the addon and stream one event (scripts/smoke-stream.cjs on the packed package
# with this machine's binary), and Deno without --allow-ffi gets lib/internal/load-error.js's Deno advice.
# Both runtimes come from the npm registry (the `bun` and `deno` packages ship their binaries as
# optional dependencies), installed into target/runtimes/, not globally.
#
#   bash scripts/runtimes-smoke.sh          # needs native-sse.<platform>.node (npm install built it)
#
# Exit status 3: bun/deno could not be installed (nothing tested); any other failure is a real one.
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

shopt -s nullglob
binaries=(native-sse.*.node)
if [[ ${#binaries[@]} -eq 0 ]]; then
  echo "runtimes-smoke: no native-sse.<platform>.node here: run npm install (or npm run build) first" >&2
  exit 1
fi

rt="$repo/target/runtimes"
if [[ ! -x "$rt/node_modules/.bin/bun" || ! -x "$rt/node_modules/.bin/deno" ]]; then
  echo "== npm install bun deno (into target/runtimes)"
  mkdir -p "$rt"
  [[ -f "$rt/package.json" ]] || echo '{ "name": "runtimes", "private": true }' >"$rt/package.json"
  # Their postinstall scripts link the binary from the optional dependency (Bun refuses to run
  # without it); they download nothing.
  if ! npm install --prefix "$rt" --no-audit --no-fund --no-save bun deno >"$rt/install.log" 2>&1; then
    cat "$rt/install.log" >&2
    echo "runtimes-smoke: could not install bun and deno from npm" >&2
    exit 3 # nothing was tested: .ci/run reports this as a warning
  fi
fi
bun="$rt/node_modules/.bin/bun"
deno="$rt/node_modules/.bin/deno"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/native-sse-runtimes.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
npm pack --silent --ignore-scripts --pack-destination "$tmp" >/dev/null
tar -xzf "$tmp"/*.tgz -C "$tmp"
cp "${binaries[@]}" "$tmp/package/"

echo "== Bun $("$bun" --version)"
"$bun" scripts/smoke-stream.cjs "$tmp/package"

echo "== Deno $("$deno" --version | head -1)"
NO_COLOR=1 "$deno" run --allow-ffi --allow-net --allow-read --allow-env --allow-sys scripts/smoke-stream.cjs "$tmp/package"

echo "== Deno without --allow-ffi: the load error names the flag"
cat >"$tmp/no-ffi.cjs" <<EOF
const { explainLoadError } = require('$tmp/package/lib/internal/load-error.js')
try {
  require('$tmp/package/binding.js')
  console.log('loaded without --allow-ffi?')
  process.exit(1)
} catch (e) {
  const msg = explainLoadError(e)
  if (!/--allow-ffi/.test(msg) || !/--allow-net does not govern/.test(msg)) {
    console.log(msg)
    process.exit(1)
  }
  console.log('   ' + msg.split('\n')[2])
}
EOF
NO_COLOR=1 "$deno" run --allow-read --allow-env --allow-sys "$tmp/no-ffi.cjs"
echo "== runtimes-smoke passed"
