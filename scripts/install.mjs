// The `install` script of the published package: make sure `require('native-sse')` finds an addon.
//
// 1. The prebuilt binary normally comes from the optional dependency `native-sse-<platform>`
//    (linux x64 gnu/musl, linux arm64 gnu), which index.js loads: then there is nothing to do.
// 2. Otherwise (another platform, or optional dependencies left out) build it from the shipped Rust
//    sources with plain `cargo build --release`, the cdylib copied to `native-sse.<platform>.node`,
//    the name index.js tries first. Plain cargo because @napi-rs/cli is a devDependency, absent here.
// 3. Without cargo, fail the install with what is missing and how to get it.
//
// Plain Node, no dependencies: it runs before anything else of the package can.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, rmSync } from 'node:fs'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const log = (line) => process.stderr.write(`native-sse: ${line}\n`)

// In the repository itself (a clone, `npm install` / `npm ci` at the top level) npm runs `install`
// and then `prepare`, and `prepare` builds with `napi build`: building here too would build twice.
// An installed package always sits in a node_modules folder (npm, pnpm and yarn alike) and a
// tarball never holds .git; a clone has .git and a source download sits outside node_modules.
// The path test rather than an environment variable: nothing has to remember to set it.
if (existsSync(join(root, '.git')) || !root.split(sep).includes('node_modules')) process.exit(0)

// Load the addon as a user's program would, in a child process: fresh module state, and this
// process never maps a .node it may have to replace (Windows locks a loaded file).
const probe = () =>
  spawnSync(process.execPath, ['-e', "require('./index.js')"], { cwd: root, encoding: 'utf8', timeout: 60_000 })

const first = probe()
if (first.status === 0) {
  log('the addon loads, nothing to build')
  process.exit(0)
}

const musl = process.platform === 'linux' && isMusl()
const platform = platformName(musl)
const prebuilt = Object.keys(pkg.optionalDependencies ?? {}).map((name) => name.slice(`${pkg.name}-`.length))
const why = prebuilt.includes(platform)
  ? `the prebuilt package ${pkg.name}-${platform} did not load (not installed: --omit=optional, or a ` +
    `lockfile made on another platform? or this system cannot load it)`
  : `no prebuilt binary for ${platform} (prebuilt: ${prebuilt.join(', ') || 'none in this copy'})`

if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).status !== 0) {
  log(`${why}, and building one from source needs Rust's cargo, which is not on PATH.`)
  log('Install Rust (stable, https://rustup.rs) and a C compiler (gcc or clang; ring builds C code),')
  log(`then run \`npm rebuild ${pkg.name}\`. The load error was:`)
  process.stderr.write(loadErrors(first.stderr))
  process.exit(1)
}

log(`${why}: building it from source with cargo (release, a few minutes)`)
const env = { ...process.env }
// rustup's musl targets link statically by default and then cannot build a cdylib.
if (musl && !/crt-static/.test(env.RUSTFLAGS ?? '')) {
  env.RUSTFLAGS = `${env.RUSTFLAGS ?? ''} -C target-feature=-crt-static`.trim()
}
// json-render-diagnostics: artifact paths on stdout (wherever CARGO_TARGET_DIR puts them),
// compiler messages rendered for humans on stderr.
const build = spawnSync(
  'cargo',
  ['build', '--release', '--locked', '--lib', '--message-format=json-render-diagnostics'],
  {
    cwd: root,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  },
)
if (build.status !== 0) {
  log(`cargo build failed (${build.error?.message ?? `exit code ${build.status}`}); see its output above.`)
  process.exit(1)
}

const libExt = { darwin: '.dylib', win32: '.dll' }[process.platform] ?? '.so'
const artifact = build.stdout
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line))
  .filter((msg) => msg.reason === 'compiler-artifact' && msg.target.kind.includes('cdylib'))
  .flatMap((msg) => msg.filenames)
  .find((file) => file.endsWith(libExt))
if (!artifact) {
  log(`cargo build succeeded but reported no ${libExt} library`)
  process.exit(1)
}
const dest = join(root, `${pkg.napi?.binaryName ?? pkg.name}.${platform}.node`)
copyFileSync(artifact, dest)
// The build tree is hundreds of MB inside node_modules; keep only the addon.
const targetDir = join(root, 'target')
if (artifact.startsWith(targetDir + sep)) rmSync(targetDir, { recursive: true, force: true })

const second = probe()
if (second.status !== 0) {
  log(`built ${dest}, but it does not load:`)
  process.stderr.write(loadErrors(second.stderr))
  process.exit(1)
}
log(`built ${dest}`)

// The names index.js (generated by napi build) looks for next to itself.
function platformName(isMuslLibc) {
  const { platform, arch } = process
  if (platform === 'linux') {
    if (arch === 'arm') return `linux-arm-${isMuslLibc ? 'musleabihf' : 'gnueabihf'}`
    if (arch === 'ppc64' || arch === 's390x') return `linux-${arch}-gnu`
    return `linux-${arch}-${isMuslLibc ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') {
    const vars = process.config?.variables ?? {}
    const gnu = arch === 'x64' && (vars.shlib_suffix === 'dll.a' || vars.node_target_type === 'shared_library')
    return `win32-${arch}-${gnu ? 'gnu' : 'msvc'}`
  }
  if (platform === 'android' && arch === 'arm') return 'android-arm-eabi'
  return `${platform}-${arch}`
}

// The same test as index.js: glibc's ldd says nothing of musl, and a glibc Node reports its version.
function isMusl() {
  try {
    return readFileSync('/usr/bin/ldd', 'utf8').includes('musl')
  } catch {
    return !process.report?.getReport()?.header?.glibcVersionRuntime
  }
}

// The messages of the load error and its causes, without stacks and require chains.
function loadErrors(stderr) {
  const lines = (stderr ?? '').split('\n').filter((line) => /^\s*(cause: )?\w*Error:/.test(line))
  return `${[...new Set(lines.map((line) => `  ${line.trim()}`))].join('\n')}\n`
}
