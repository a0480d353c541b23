#!/usr/bin/env bash
# npm run pack:check: proves the published layout works, with the x64 glibc binary that
# `npm install` (prepare) already built; it builds nothing itself.
#
# 1. Packs the platform package npm/linux-x64-gnu with that binary copied in.
# 2. Packs the main package, with the optionalDependencies that `napi prepublish` adds at publish
#    time (they are not in the committed package.json: the platform packages are not on the
#    registry until published, and `npm ci` rejects a lockfile that cannot list them).
# 3. Checks the main tarball: no .node inside, and every file cargo needs for the source fallback.
# 4. Installs both tarballs into a throwaway project with install scripts on, and checks that the
#    addon loads from native-sse-linux-x64-gnu (scripts/install.mjs found it and built nothing).
# 5. Runs examples/demo.mjs there against its embedded server on 127.0.0.1, `native-sse` resolved
#    from node_modules, and fails unless the stream completes.
#
# With IGNORE_SCRIPTS=1 (as .ci/run runs it) step 4 installs with --ignore-scripts, as pnpm 10 and
# Bun install by default: the prebuilt path must need no install script. Then a last step installs,
# scripts blocked, a main package whose napi.targets leave this platform out (what a user on a
# platform without a prebuilt binary gets) and checks that require() fails with the command that
# allows the script (`npm install-scripts approve native-sse`).
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$(pwd)"

binary=native-sse.linux-x64-gnu.node
if [[ ! -f "$binary" ]]; then
  echo "pack:check: $binary is missing: run npm install (or npm run build) first" >&2
  exit 1
fi
name="$(node -p "require('./package.json').name")"
version="$(node -p "require('./package.json').version")"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/native-sse-pack-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/stage" "$tmp/app"

echo "== pack $name-linux-x64-gnu (npm/linux-x64-gnu + $binary)"
cp -r npm/linux-x64-gnu "$tmp/stage/linux-x64-gnu"
cp "$binary" "$tmp/stage/linux-x64-gnu/"
(cd "$tmp/stage/linux-x64-gnu" && npm pack --silent --ignore-scripts --pack-destination "$tmp" >/dev/null)
platform_tgz="$tmp/$name-linux-x64-gnu-$version.tgz"
tar -tzf "$platform_tgz" | sed 's/^/   /'

echo "== pack $name, plus the optionalDependencies napi prepublish adds"
npm pack --silent --ignore-scripts --pack-destination "$tmp/stage" >/dev/null
tar -xzf "$tmp/stage/$name-$version.tgz" -C "$tmp/stage"
node -e '
  const fs = require("fs")
  const file = process.argv[1]
  const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
  // The names napi derives from napi.targets, as in npm/*/package.json.
  const names = fs.readdirSync("npm").map((dir) => JSON.parse(fs.readFileSync(`npm/${dir}/package.json`, "utf8")).name)
  pkg.optionalDependencies = Object.fromEntries(names.sort().map((n) => [n, pkg.version]))
  fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n")
  console.log("   optionalDependencies:", JSON.stringify(pkg.optionalDependencies))
' "$tmp/stage/package/package.json"
(cd "$tmp/stage/package" && npm pack --silent --ignore-scripts --pack-destination "$tmp" >/dev/null)
main_tgz="$tmp/$name-$version.tgz"

echo "== check the main tarball"
tar -tzf "$main_tgz" | sed 's#^package/##' | sort >"$tmp/main-files"
if grep -q '\.node$' "$tmp/main-files"; then
  echo "pack:check: the main package must not carry a .node binary:" >&2
  grep '\.node$' "$tmp/main-files" >&2
  exit 1
fi
# The JS entry points come from package.json (main, types, every file exports names), so this list
# follows the layout of index.js/binding.js; the rest is what the install script and cargo need.
mapfile -t entries < <(node -e '
  const pkg = require("./package.json")
  const out = new Set([pkg.main, pkg.types].filter(Boolean))
  const walk = (v) => (typeof v === "string" ? out.add(v) : v && Object.values(v).forEach(walk))
  walk(pkg.exports)
  for (const f of out) console.log(f.replace(/^\.\//, ""))')
for f in package.json "${entries[@]}" lib/internal/load-error.js scripts/install.mjs LICENSE \
  Cargo.toml Cargo.lock build.rs src/lib.rs crates/sse-core/Cargo.toml crates/sse-core/src/lib.rs; do
  grep -qx "$f" "$tmp/main-files" || { echo "pack:check: $f is missing from the main tarball" >&2; exit 1; }
done
# The source fallback's inputs are complete: every manifest is there and Cargo.lock matches them.
cargo metadata --locked --format-version 1 --manifest-path "$tmp/stage/package/Cargo.toml" >/dev/null
sed 's/^/   /' "$tmp/main-files"
echo "   $(wc -l <"$tmp/main-files") files, $(du -k "$main_tgz" | cut -f1) KiB packed; no .node; cargo files complete, Cargo.lock in sync"

ignore_scripts="${IGNORE_SCRIPTS:-0}"
cd "$tmp/app"
npm init -y >/dev/null
if [[ "$ignore_scripts" == 1 ]]; then
  echo "== npm install both tarballs into $tmp/app with --ignore-scripts"
  npm install --no-audit --no-fund --ignore-scripts "$main_tgz" "$platform_tgz" 2>&1 | sed 's/^/   /'
else
  echo "== npm install both tarballs into $tmp/app (install scripts on)"
  # npm 11 runs a dependency's install script only when the project's allowScripts lists it (older
  # npm ignores the field); --foreground-scripts shows what scripts/install.mjs says.
  npm pkg set "allowScripts.$name=true" --json
  npm install --no-audit --no-fund --ignore-scripts=false --foreground-scripts \
    "$main_tgz" "$platform_tgz" 2>&1 | tee "$tmp/install.out" | sed 's/^/   /'
  if ! grep -q "^native-sse: the addon loads, nothing to build" "$tmp/install.out"; then
    echo "pack:check: scripts/install.mjs did not run, or did not find the prebuilt addon" >&2
    exit 1
  fi
fi
if compgen -G "node_modules/$name/*.node" >/dev/null; then
  echo "pack:check: scripts/install.mjs built an addon although the prebuilt one was installed" >&2
  exit 1
fi
loaded="$(node -e "
  require('$name')
  console.log(Object.keys(require.cache).find((file) => file.endsWith('.node')))")"
echo "   require('$name') loaded ${loaded#"$tmp/app/"}"
if [[ "$loaded" != "$tmp/app/node_modules/$name-linux-x64-gnu/$binary" ]]; then
  echo "pack:check: expected the binary of $name-linux-x64-gnu" >&2
  exit 1
fi
node --input-type=module -e "import { SSEClient } from '$name'; if (typeof SSEClient !== 'function') process.exit(1)"

echo "== demo (examples/demo.mjs, native-sse from node_modules)"
cp "$repo/examples/demo.mjs" "$repo/examples/openai-server.mjs" .
node demo.mjs | tee "$tmp/demo.out"
grep -Eq '^[1-9][0-9]* tokens, first after' "$tmp/demo.out"

if [[ "$ignore_scripts" == 1 ]]; then
  echo "== no prebuilt binary for this platform and scripts blocked: require() names the command"
  mkdir -p "$tmp/unsupported/stage" "$tmp/unsupported/app"
  tar -xzf "$main_tgz" -C "$tmp/unsupported/stage"
  # This platform's target out of napi.targets, no optionalDependencies: as on an unsupported one.
  node -e '
    const fs = require("fs")
    const file = process.argv[1]
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"))
    delete pkg.optionalDependencies
    pkg.napi.targets = pkg.napi.targets.filter((t) => !(t.startsWith("x86_64-unknown-linux") && t.endsWith("-gnu")))
    fs.writeFileSync(file, JSON.stringify(pkg, null, 2) + "\n")
  ' "$tmp/unsupported/stage/package/package.json"
  (cd "$tmp/unsupported/stage/package" && npm pack --silent --ignore-scripts --pack-destination "$tmp/unsupported" >/dev/null)
  cd "$tmp/unsupported/app"
  npm init -y >/dev/null
  npm install --no-audit --no-fund --ignore-scripts "$tmp/unsupported/$name-$version.tgz" 2>&1 | sed 's/^/   /'
  if node -e "require('$name')" 2>"$tmp/unsupported/load.err"; then
    echo "pack:check: the package loaded without a binary" >&2
    exit 1
  fi
  # The first 20 lines, without a pipe: `sed | head` under pipefail ends the script with SIGPIPE (141)
  # whenever head closes the pipe before sed has written everything.
  sed -n '1,20s/^/   /p' "$tmp/unsupported/load.err"
  grep -q "ERR_NATIVE_SSE_LOAD" "$tmp/unsupported/load.err" || {
    echo "pack:check: the load error is not native-sse's (ERR_NATIVE_SSE_LOAD)" >&2
    exit 1
  }
  grep -qF "npm install-scripts approve $name, then npm install" "$tmp/unsupported/load.err" || {
    echo "pack:check: the load error does not name \`npm install-scripts approve $name\`" >&2
    exit 1
  }
fi
echo "== pack:check passed"
