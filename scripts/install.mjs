// The `install` script of the published package: make sure `require('native-sse')` finds an addon.
//
// 1. The prebuilt binary normally comes from the optional dependency `native-sse-<platform>`
//    (linux x64 gnu/musl, linux arm64 gnu), which index.js loads: then there is nothing to do.
// 2. Otherwise (another platform, or optional dependencies left out) build it from the shipped Rust
//    sources with plain `cargo build --release`, the cdylib copied to `native-sse.<platform>.node`,
//    the name index.js tries first. Plain cargo because @napi-rs/cli is a devDependency, absent here.
// 3. Without cargo or a C compiler (ring compiles C and assembly), fail the install before building,
//    with what is missing and how to get it.
// 4. While cargo builds (1.5 to 3.5 minutes), cargo's own lines go to stderr and a progress line
//    (crates compiled so far, then the final link, and seconds) every 15 s; npm shows them with
//    --foreground-scripts, and in its log on failure.
// 5. A failure says how to try again: after a failed `npm install` npm rolls the package back, so
//    the command is `npm install` again, not `npm rebuild` (which has nothing to rebuild then).
//
// Plain Node, no dependencies: it runs before anything else of the package can.
import { spawn, spawnSync } from 'node:child_process'
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
  log(`Install Rust (stable, https://rustup.rs) and a C compiler (${compilerAdvice()}),`)
  log(`then ${rerunHint()}. The load error was:`)
  process.stderr.write(loadErrors(first.stderr))
  process.exit(1)
}
const compiler = findCCompiler()
if (!compiler) {
  log(`${why}, and building one from source needs a C compiler (ring, the TLS crypto library,`)
  log(`compiles C and assembly); none was found (${process.platform === 'win32' ? 'cl, CC' : 'cc, gcc, clang, CC'}).`)
  log(`Install one: ${compilerAdvice()}; then ${rerunHint()}.`)
  process.exit(1)
}

log(`${why}: building it from source with cargo and ${compiler} (release build, 1.5 to 3.5 minutes)`)
const env = { ...process.env }
// rustup's musl targets link statically by default and then cannot build a cdylib.
if (musl && !/crt-static/.test(env.RUSTFLAGS ?? '')) {
  env.RUSTFLAGS = `${env.RUSTFLAGS ?? ''} -C target-feature=-crt-static`.trim()
}
// json-render-diagnostics: artifact paths on stdout (wherever CARGO_TARGET_DIR puts them),
// compiler messages and cargo's `Compiling ...` lines rendered for humans on stderr.
const build = await runCargo(['build', '--release', '--locked', '--lib', '--message-format=json-render-diagnostics'], {
  cwd: root,
  env,
})
if (build.status !== 0) {
  log(`cargo build failed (${build.error ?? `exit code ${build.status}`}); see its output above.`)
  log(`Fix what it reports, then ${rerunHint()}.`)
  process.exit(1)
}

const libExt = { darwin: '.dylib', win32: '.dll' }[process.platform] ?? '.so'
const artifact = build.cdylibs.find((file) => file.endsWith(libExt))
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
log(`built ${dest} in ${build.seconds} s`)

// Runs cargo with its stderr shown as it comes, its JSON messages read from stdout, and a progress
// line every 15 s (npm buffers script output, so this is what a --foreground-scripts or CI log shows
// between cargo's own lines). Resolves with the exit status and the cdylib paths cargo reported.
function runCargo(args, options) {
  const started = Date.now()
  const child = spawn('cargo', args, { ...options, stdio: ['ignore', 'pipe', 'inherit'] })
  let built = 0
  let coreBuilt = false
  let pending = ''
  const cdylibs = []
  child.stdout.setEncoding('utf8')
  child.stdout.on('data', (chunk) => {
    const lines = (pending + chunk).split('\n')
    pending = lines.pop()
    for (const line of lines) {
      if (!line.startsWith('{')) continue
      const msg = JSON.parse(line)
      if (msg.reason !== 'compiler-artifact') continue
      built++
      if (msg.target.name === 'sse_core') coreBuilt = true
      if (msg.target.kind.includes('cdylib')) cdylibs.push(...msg.filenames)
    }
  })
  const seconds = () => Math.round((Date.now() - started) / 1000)
  // No total: Cargo.lock lists every platform's crates (211; a Linux build compiles 143). Once
  // sse-core is built only the addon is left, and its optimised link is the last minute or two.
  const timer = setInterval(() => {
    const stage = coreBuilt ? 'compiling and linking the addon itself (the last step)' : `${built} crates compiled`
    log(`building: ${stage}, ${seconds()} s`)
  }, 15_000)
  return new Promise((resolve) => {
    child.on('error', (err) => {
      clearInterval(timer)
      resolve({ status: null, error: err.message, cdylibs, seconds: seconds() })
    })
    child.on('close', (status, signal) => {
      clearInterval(timer)
      resolve({ status, error: signal ? `killed by ${signal}` : undefined, cdylibs, seconds: seconds() })
    })
  })
}

// The C compiler the cc crate would use: $CC, else cc/gcc/clang on Unix; MSVC on Windows (cc finds it
// through the Visual Studio installer even outside a developer prompt, so `cl` need not be on PATH).
function findCCompiler() {
  const runs = (cmd, args) => spawnSync(cmd, args, { stdio: 'ignore', shell: false, timeout: 10_000 }).status === 0
  if (process.env.CC) return runs(process.env.CC, ['--version']) || runs(process.env.CC, []) ? process.env.CC : null
  if (process.platform === 'win32') {
    if (spawnSync('where', ['cl'], { stdio: 'ignore' }).status === 0) return 'cl (MSVC)'
    const installer = join(
      process.env['ProgramFiles(x86)'] ?? 'C:\\Program Files (x86)',
      'Microsoft Visual Studio',
      'Installer',
      'vswhere.exe',
    )
    if (!existsSync(installer)) return null
    const vs = spawnSync(
      installer,
      [
        '-latest',
        '-products',
        '*',
        '-requires',
        'Microsoft.VisualStudio.Component.VC.Tools.x86.x64',
        '-property',
        'installationPath',
      ],
      { encoding: 'utf8' },
    )
    return vs.status === 0 && vs.stdout.trim() ? 'MSVC (Visual Studio Build Tools)' : null
  }
  return ['cc', 'gcc', 'clang'].find((cmd) => runs(cmd, ['--version'])) ?? null
}

function compilerAdvice() {
  if (process.platform === 'win32') return 'Visual Studio Build Tools with the "Desktop development with C++" workload'
  if (process.platform === 'darwin') return 'the Xcode Command Line Tools: xcode-select --install'
  return 'build-essential on Debian/Ubuntu, gcc on Fedora, build-base on Alpine (apk add build-base)'
}

// How to run this script again. After a failed first install npm removes the package again, so
// `npm rebuild` would find nothing; only a failed `npm rebuild` is retried as such.
function rerunHint() {
  const tool = (process.env.npm_config_user_agent ?? '').split('/')[0] || 'npm'
  if (tool === 'npm' && process.env.npm_command === 'rebuild') return `run \`npm rebuild ${pkg.name}\` again`
  if (tool !== 'npm') return `run \`${tool} install\` again`
  return 'run `npm install` again (npm rolled this install back, so `npm rebuild` has nothing to rebuild)'
}

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
