// What to tell a user whose `require('native-sse')` could not load the native addon.
//
// The generated loader (binding.js) tries `./native-sse.<platform>.node` and then the optional
// dependency `native-sse-<platform>`, and when both fail throws napi-rs's generic "npm has a bug
// related to optional dependencies ... remove package-lock.json" with the individual failures chained
// as `cause`. That advice is wrong more often than right: the usual causes are optional dependencies
// left out (--omit=optional, a lockfile or node_modules made on another OS, a Docker image built on a
// Mac), install scripts blocked (pnpm 10 and Bun run none by default, so the source build for a
// platform without a prebuilt binary never ran), a binary for another libc or CPU, or Deno without
// --allow-ffi. This module reads the chained failures, tells which case it is, and gives the command
// that fixes it for each package manager.
//
//   const { loadError } = require('./lib/internal/load-error.js')
//   try { binding = require('./binding.js') } catch (e) { throw loadError(e) }
//
// Plain CommonJS with no dependencies, and no I/O unless a context field is left to its default.
'use strict'

/** The napi-rs platform name (`linux-x64-gnu`, `darwin-arm64`, `win32-x64-msvc`, ...). */
function platformName(platform, arch, musl) {
  if (platform === 'linux') {
    if (arch === 'arm') return `linux-arm-${musl ? 'musleabihf' : 'gnueabihf'}`
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** The platform names that have a prebuilt package, from napi.targets (Rust triples). */
function prebuiltPlatforms(targets) {
  const arches = { x86_64: 'x64', aarch64: 'arm64', i686: 'ia32', armv7: 'arm' }
  return targets.map((triple) => {
    const [cpu, , os, abi] = triple.split('-')
    const arch = arches[cpu] || cpu
    if (os === 'darwin') return `darwin-${arch}`
    if (os === 'windows') return `win32-${arch}-msvc`
    return platformName(os, arch, abi === 'musl')
  })
}

// glibc's Node reports the glibc it runs on; a musl Node has no such field.
function detectMusl() {
  if (process.platform !== 'linux') return false
  try {
    const report = process.report && process.report.getReport()
    return !(report && report.header && report.header.glibcVersionRuntime)
  } catch {
    return false
  }
}

function detectRuntime() {
  if (typeof globalThis.Deno !== 'undefined' || (process.versions && process.versions.deno)) return 'deno'
  if (process.versions && process.versions.bun) return 'bun'
  if (process.versions && process.versions.electron) return 'electron'
  return 'node'
}

/**
 * Every failure inside what the loader threw: the error itself, its `cause` chain, an array of
 * errors, or an AggregateError. The first line of each message, without napi-rs's own summary.
 */
function failures(errors) {
  const out = []
  const seen = new Set()
  const visit = (value) => {
    if (value == null || seen.has(value)) return
    if (typeof value === 'object') seen.add(value)
    if (Array.isArray(value)) return value.forEach(visit)
    let message
    try {
      message = typeof value.message === 'string' ? value.message : String(value)
    } catch {
      message = 'unknown error'
    }
    // napi-rs chains its failures newest first (each one the `cause` of the next): visit the cause
    // before the error itself so the list reads in the order they were tried.
    if (Array.isArray(value.errors)) value.errors.forEach(visit)
    visit(value.cause)
    const line = message.split('\n')[0].trim()
    if (line && !/^Cannot find native binding|^Failed to load native binding/.test(line)) {
      out.push({ message: line, code: value.code })
    }
  }
  visit(errors)
  return out
}

const isMissing = (f) => f.code === 'MODULE_NOT_FOUND' || /^Cannot find (module|package)\b/.test(f.message)

/** What went wrong, from the failures: the first kind that matches wins. */
function classify(list) {
  const text = list.map((f) => f.message).join('\n')
  if (/--allow-ffi|NotCapable|Requires ffi access|PermissionDenied.*ffi/i.test(text)) return 'deno-ffi'
  if (/GLIBC_[0-9.]+' not found|version `GLIBC/.test(text)) return 'glibc-too-old'
  if (
    /ld-linux[-\w.]*\.so|libc\.musl|ld-musl|Error relocating|Error loading shared library|__(?:memcpy|stack)_chk|symbol not found/i.test(
      text,
    )
  ) {
    return 'wrong-libc'
  }
  if (
    /wrong ELF class|invalid ELF header|ELF file|file too short|wrong architecture|incompatible architecture|not a mach-o|not a valid Win32|Exec format/i.test(
      text,
    )
  ) {
    return 'wrong-arch'
  }
  if (/app\.asar[/\\]/.test(text)) return 'asar'
  if (/version mismatch/i.test(text)) return 'version-mismatch'
  // Something was found and failed in a way not known above: say so rather than "not installed".
  if (list.some((f) => !isMissing(f))) return 'unloadable'
  return 'missing'
}

/**
 * The message for a failed load.
 *
 * @param {unknown} errors what loading threw (an Error with a `cause` chain, or an array of errors)
 * @param {object} [context] defaults come from this process and package.json
 * @param {string} [context.platform] process.platform
 * @param {string} [context.arch] process.arch
 * @param {boolean} [context.musl] Linux with musl libc (Alpine)
 * @param {'node'|'bun'|'deno'|'electron'} [context.runtime]
 * @param {string[]} [context.prebuilt] platform names that have a prebuilt package
 * @param {string} [context.name] the package name
 * @param {string} [context.version] the package version
 * @returns {string}
 */
function explainLoadError(errors, context = {}) {
  const pkg = context.name && context.version && context.prebuilt ? null : require('../../package.json')
  const name = context.name || pkg.name
  const version = context.version || pkg.version
  const os = context.platform || process.platform
  const arch = context.arch || process.arch
  const musl = context.musl !== undefined ? context.musl : os === process.platform && detectMusl()
  const runtime = context.runtime || detectRuntime()
  const prebuilt = context.prebuilt || prebuiltPlatforms((pkg.napi && pkg.napi.targets) || [])
  const platform = platformName(os, arch, musl)
  const platformPkg = `${name}-${platform}`
  const hasPrebuilt = prebuilt.includes(platform)
  const list = failures(errors)
  const kind = classify(list)
  const where = `${os}-${arch}${os === 'linux' ? (musl ? ' (musl libc)' : ' (glibc)') : ''}`

  const lines = [`${name} could not load its native addon on ${where}, ${runtimeName(runtime)}.`, '']
  const say = (...more) => lines.push(...more)

  if (kind === 'deno-ffi') {
    say(
      'Deno loads Node addons only with the FFI permission. Run with --allow-ffi (or',
      `--allow-ffi=<path to node_modules>), e.g. \`deno run --allow-ffi --allow-net main.ts\`.`,
      `The addon opens its own connections: --allow-net does not govern them (it covers Deno's fetch).`,
    )
  } else if (kind === 'glibc-too-old') {
    say(
      `The binary in ${platformPkg} needs a newer glibc than this system has (the prebuilt ones need`,
      'glibc >= 2.17). Upgrade the system, use the musl build on Alpine, or build the addon here from source:',
      'install Rust (https://rustup.rs) and a C compiler, then run the install script again with',
      `\`npm rebuild ${name}\` (\`npm install ${name}\` if it is not installed): it sees that the prebuilt`,
      'binary does not load and builds one.',
    )
  } else if (kind === 'wrong-libc' || kind === 'wrong-arch') {
    say(
      kind === 'wrong-libc'
        ? `The binary found was built for the other C library (glibc vs musl) than this ${where} system uses.`
        : `The binary found cannot be loaded on ${where}: it was built for another CPU or OS, or is damaged.`,
      'This happens when node_modules is copied between machines (a Docker image built from a host',
      `folder, a lockfile resolved on another OS). Install on the machine that runs the code, so npm picks`,
      `${platformPkg}: \`rm -rf node_modules && npm install\` (in Docker: install inside the image, and keep`,
      'node_modules out of the build context with .dockerignore).',
    )
  } else if (kind === 'asar') {
    say(
      'Electron cannot load a .node file from inside app.asar. Unpack it: electron-builder',
      `"asarUnpack": ["**/node_modules/${name}*/**"], or Electron Forge's @electron-forge/plugin-auto-unpack-natives.`,
    )
  } else if (kind === 'version-mismatch') {
    say(
      `${platformPkg} is not version ${version}: a lockfile pins another version. Reinstall both at the`,
      `same version: \`npm install ${name}@${version} ${platformPkg}@${version}\`.`,
    )
  } else if (kind === 'unloadable') {
    say(
      'A binary was found but did not load; the first failure below is the one to read. If node_modules',
      `was copied from another machine, reinstall on this one: \`rm -rf node_modules && npm install\`.`,
    )
  } else if (hasPrebuilt) {
    say(
      `The prebuilt binary comes in the optional dependency ${platformPkg}, and it is not installed.`,
      'Optional dependencies were left out: `--omit=optional` / `--no-optional`, NODE_ENV or a CI',
      'setting that omits them, or a lockfile or node_modules made on another OS or CPU (npm then',
      "records only that platform's binary). Install it, at the same version as the package:",
      '',
      `  npm    npm install ${platformPkg}@${version}   (or: rm -rf node_modules && npm install --include=optional)`,
      `  pnpm   pnpm add ${platformPkg}@${version}   (for other OSes in one lockfile: supportedArchitectures in pnpm-workspace.yaml)`,
      `  yarn   yarn add ${platformPkg}@${version}   (Yarn 4: supportedArchitectures in .yarnrc.yml)`,
      `  Bun    bun add ${platformPkg}@${version}`,
      `  Deno   deno install npm:${platformPkg}@${version}, and run with --allow-ffi`,
    )
  } else {
    say(
      `No prebuilt binary exists for ${platform} (prebuilt: ${prebuilt.join(', ') || 'none'}), so the`,
      `package's install script builds one from source with Rust's cargo. It did not run or did not finish:`,
      'install scripts are blocked (pnpm 10, Bun and Deno run none by default; npm with --ignore-scripts), or',
      'the build failed. Install Rust (https://rustup.rs) and a C compiler (gcc/clang, MSVC on Windows), then',
      'allow the script and install again (after a failed first install npm has rolled the package back, so',
      '`npm rebuild` has nothing to rebuild):',
      '',
      `  npm    npm install-scripts approve ${name}, then npm install   (npm 11; never with --ignore-scripts)`,
      `  pnpm   pnpm approve-builds   (choose ${name}; or "pnpm": { "onlyBuiltDependencies": ["${name}"] } in package.json), then pnpm install`,
      `  yarn   yarn install   (Yarn 4: enableScripts must not be false; dependenciesMeta["${name}"].built: true)`,
      `  Bun    bun pm trust ${name}   (or "trustedDependencies": ["${name}"] in package.json, then bun install)`,
      `  Deno   deno install --allow-scripts=npm:${name}, and run with --allow-ffi`,
    )
  }

  if (list.length > 0) {
    say('', 'What was tried:')
    for (const f of list) say(`  - ${f.message}`)
  }
  return lines.join('\n')
}

function runtimeName(runtime) {
  const v = process.versions || {}
  if (runtime === 'deno') return `Deno ${v.deno || ''}`.trim()
  if (runtime === 'bun') return `Bun ${v.bun || ''}`.trim()
  if (runtime === 'electron') return `Electron ${v.electron || ''}`.trim()
  return `Node ${process.version}`
}

/**
 * The Error to throw for a failed load: the message of explainLoadError, `code`
 * 'ERR_NATIVE_SSE_LOAD', and what the loader threw as `cause`.
 */
function loadError(errors, context) {
  const error = new Error(explainLoadError(errors, context))
  error.code = 'ERR_NATIVE_SSE_LOAD'
  // Not the generated loader's own wrapper ("npm has a bug ... remove package-lock.json"), which
  // sends people the wrong way: what it wraps, the failures of each file it tried.
  const wrapped = !Array.isArray(errors) && (errors?.message ?? '').startsWith('Cannot find native binding')
  error.cause = wrapped && errors.cause !== undefined ? errors.cause : errors
  return error
}

module.exports = { explainLoadError, loadError, platformName, prebuiltPlatforms }
