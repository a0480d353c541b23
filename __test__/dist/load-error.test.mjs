// lib/internal/load-error.js: the message a user gets when the native addon does not load. Unit tests with
// the failure messages the loaders really print (glibc, musl, macOS, Windows, Deno, Electron), then the
// real thing: a child process loading a packed copy of the package with the .node file left out.
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { explainLoadError, loadError, platformName, prebuiltPlatforms } = require('../../lib/internal/load-error.js')
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))

const base = { name: 'native-sse', version: '1.2.3', runtime: 'node', prebuilt: prebuiltPlatforms(pkg.napi.targets) }
const linuxGnu = { ...base, platform: 'linux', arch: 'x64', musl: false }

// What napi-rs's generated loader throws: its summary, the failures chained newest first as `cause`.
function napiError(...messages) {
  const chain = messages.reduce((previous, message) => {
    const error = new Error(message)
    error.cause = previous
    return error
  }, null)
  const error = new Error(
    'Cannot find native binding. npm has a bug related to optional dependencies (https://github.com/npm/cli/issues/4828). ' +
      'Please try `npm i` again after removing both package-lock.json and node_modules directory.',
  )
  error.cause = chain
  return error
}
const notFound = (platform) =>
  napiError(
    `Cannot find module './native-sse.${platform}.node'\nRequire stack:\n- /app/node_modules/native-sse/binding.js`,
    `Cannot find module 'native-sse-${platform}'\nRequire stack:\n- /app/node_modules/native-sse/binding.js`,
  )

describe('platform names', () => {
  test('napi.targets map to the npm/ folder names', () => {
    assert.deepEqual(prebuiltPlatforms(pkg.napi.targets).sort(), [
      'darwin-arm64',
      'darwin-x64',
      'linux-arm64-gnu',
      'linux-arm64-musl',
      'linux-x64-gnu',
      'linux-x64-musl',
      'win32-arm64-msvc',
      'win32-x64-msvc',
    ])
    for (const name of prebuiltPlatforms(pkg.napi.targets)) assert.ok(existsSync(join(root, 'npm', name)), name)
  })

  test('libc decides the Linux name; Windows is msvc', () => {
    assert.equal(platformName('linux', 'arm64', true), 'linux-arm64-musl')
    assert.equal(platformName('linux', 'x64', false), 'linux-x64-gnu')
    assert.equal(platformName('win32', 'arm64', false), 'win32-arm64-msvc')
    assert.equal(platformName('darwin', 'arm64', false), 'darwin-arm64')
  })
})

describe('messages', () => {
  test('a missing optional dependency names the package and the install command for each package manager', () => {
    const msg = explainLoadError(notFound('linux-x64-gnu'), linuxGnu)
    assert.match(msg, /^native-sse could not load its native addon on linux-x64 \(glibc\), Node v/)
    assert.match(msg, /optional dependency native-sse-linux-x64-gnu, and it is not installed/)
    assert.match(msg, /--omit=optional/)
    assert.match(msg, /npm +npm install native-sse-linux-x64-gnu@1\.2\.3/)
    assert.match(msg, /pnpm +pnpm add native-sse-linux-x64-gnu@1\.2\.3/)
    assert.match(msg, /yarn +yarn add native-sse-linux-x64-gnu@1\.2\.3/)
    assert.match(msg, /Bun +bun add native-sse-linux-x64-gnu@1\.2\.3/)
    assert.match(msg, /Deno +deno install npm:native-sse-linux-x64-gnu@1\.2\.3, and run with --allow-ffi/)
    // napi-rs's own advice is not repeated, and the failures are listed in the order they were tried.
    assert.doesNotMatch(msg, /npm has a bug|removing both package-lock\.json/)
    assert.match(
      msg,
      /What was tried:\n {2}- Cannot find module '\.\/native-sse\.linux-x64-gnu\.node'\n {2}- Cannot find module 'native-sse-linux-x64-gnu'$/,
    )
    assert.doesNotMatch(msg, /Require stack/)
  })

  test('musl picks the musl package', () => {
    const msg = explainLoadError(notFound('linux-arm64-musl'), {
      ...base,
      platform: 'linux',
      arch: 'arm64',
      musl: true,
    })
    assert.match(msg, /on linux-arm64 \(musl libc\)/)
    assert.match(msg, /npm install native-sse-linux-arm64-musl@1\.2\.3/)
  })

  test('a platform without a prebuilt binary explains the source build and how to allow install scripts', () => {
    const msg = explainLoadError(notFound('freebsd-x64'), { ...base, platform: 'freebsd', arch: 'x64' })
    assert.match(msg, /No prebuilt binary exists for freebsd-x64 \(prebuilt: linux-x64-gnu, /)
    assert.match(msg, /cargo/)
    assert.match(msg, /https:\/\/rustup\.rs/)
    assert.match(msg, /C compiler/)
    assert.match(msg, /`npm rebuild` has nothing to rebuild/)
    assert.match(msg, /npm +npm install-scripts approve native-sse, then npm install/)
    assert.match(msg, /pnpm +pnpm approve-builds/)
    assert.match(msg, /Bun +bun pm trust native-sse +\(or "trustedDependencies": \["native-sse"\]/)
    assert.match(msg, /Deno +deno install --allow-scripts=npm:native-sse, and run with --allow-ffi/)
    assert.match(msg, /yarn/)
  })

  test('Deno without --allow-ffi is told the flag, and that --allow-net does not cover the addon', () => {
    const msg = explainLoadError(
      napiError(
        'NotCapable: Requires ffi access to "/app/node_modules/native-sse-linux-x64-gnu/native-sse.linux-x64-gnu.node", run again with the --allow-ffi flag',
      ),
      { ...linuxGnu, runtime: 'deno' },
    )
    assert.match(msg, /Deno/)
    assert.match(msg, /--allow-ffi/)
    assert.match(msg, /--allow-net does not govern them/)
    assert.doesNotMatch(msg, /npm install/)
  })

  test('a glibc older than the binary needs says so', () => {
    const msg = explainLoadError(
      napiError(
        "/lib/x86_64-linux-gnu/libc.so.6: version `GLIBC_2.34' not found (required by /app/node_modules/native-sse-linux-x64-gnu/native-sse.linux-x64-gnu.node)",
      ),
      linuxGnu,
    )
    assert.match(msg, /needs a newer glibc/)
    assert.match(msg, /glibc >= 2\.17/)
    assert.match(msg, /npm rebuild native-sse/)
  })

  test('a glibc binary on musl (node_modules copied from another machine) is a libc mismatch', () => {
    const msg = explainLoadError(
      napiError(
        'Error loading shared library ld-linux-x86-64.so.2: No such file or directory (needed by /app/node_modules/native-sse/native-sse.linux-x64-gnu.node)',
      ),
      { ...base, platform: 'linux', arch: 'x64', musl: true },
    )
    assert.match(msg, /other C library \(glibc vs musl\)/)
    assert.match(msg, /rm -rf node_modules && npm install/)
    assert.match(msg, /Docker/)
  })

  test('the glibc binary in a real musl Node (its loader misses libgcc_s) is a libc mismatch', () => {
    // Seen with the musllinux Node of scripts/qemu-arm64.sh loading native-sse.linux-x64-gnu.node.
    const msg = explainLoadError(
      napiError(
        'Error loading shared library libgcc_s.so.1: No such file or directory (needed by /app/node_modules/native-sse-linux-x64-gnu/native-sse.linux-x64-gnu.node)',
      ),
      { ...base, platform: 'linux', arch: 'x64', musl: true },
    )
    assert.match(msg, /other C library \(glibc vs musl\)/)
  })

  test('the wrong CPU on macOS and Windows is an architecture mismatch', () => {
    const mac = explainLoadError(
      napiError(
        "dlopen(/app/native-sse.darwin-x64.node, 0x0001): tried: '/app/native-sse.darwin-x64.node' (mach-o file, but is an incompatible architecture (have 'x86_64', need 'arm64'))",
      ),
      { ...base, platform: 'darwin', arch: 'arm64' },
    )
    assert.match(mac, /built for another CPU or OS/)
    const win = explainLoadError(
      napiError(
        '\\\\?\\C:\\app\\node_modules\\native-sse\\native-sse.win32-x64-msvc.node is not a valid Win32 application.',
      ),
      { ...base, platform: 'win32', arch: 'x64' },
    )
    assert.match(win, /built for another CPU or OS/)
  })

  test('a .node inside app.asar tells how to unpack it', () => {
    const msg = explainLoadError(
      napiError(
        "Cannot find module '/Applications/App.app/Contents/Resources/app.asar/node_modules/native-sse-darwin-arm64/native-sse.darwin-arm64.node'",
      ),
      { ...base, platform: 'darwin', arch: 'arm64', runtime: 'electron' },
    )
    assert.match(msg, /app\.asar/)
    assert.match(msg, /asarUnpack/)
  })

  test('a platform package of another version is a version mismatch', () => {
    const msg = explainLoadError(
      napiError(
        'Native binding package version mismatch, expected 1.2.3 but got 1.2.0. You can reinstall dependencies to fix this issue.',
      ),
      linuxGnu,
    )
    assert.match(msg, /npm install native-sse@1\.2\.3 native-sse-linux-x64-gnu@1\.2\.3/)
  })

  test('an unknown failure of a binary that was found is not reported as a missing package', () => {
    const msg = explainLoadError(
      [new Error('something else broke'), new Error("Cannot find module 'native-sse-linux-x64-gnu'")],
      linuxGnu,
    )
    assert.match(msg, /A binary was found but did not load/)
    assert.doesNotMatch(msg, /is not installed/)
    assert.match(msg, /- something else broke\n/)
  })

  test('loadError() wraps the message in an Error with a code and the original as cause', () => {
    const original = notFound('linux-x64-gnu')
    const error = loadError(original, linuxGnu)
    assert.ok(error instanceof Error)
    assert.equal(error.code, 'ERR_NATIVE_SSE_LOAD')
    // The generated loader's wrapper is replaced by what it wraps: the failure of each file tried.
    assert.equal(error.cause, original.cause ?? original)
    assert.equal(error.message, explainLoadError(original, linuxGnu))
  })

  test('with no context, the defaults come from this process and package.json', () => {
    const msg = explainLoadError(notFound('x'))
    assert.match(msg, new RegExp(`on ${process.platform}-${process.arch}`))
    assert.match(msg, new RegExp(`@${pkg.version.replace(/\./g, '\\.')}|No prebuilt binary`))
  })
})

// The real thing: the package as npm packs it, installed into a temp project's node_modules without
// any .node file and without the platform package, loaded by a child process.
describe('a packed copy without the binary', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'native-sse-load-error-'))
  const dir = join(tmp, 'node_modules', 'native-sse')
  const packed = spawnSync('npm', ['pack', '--silent', '--ignore-scripts', '--json', '--pack-destination', tmp], {
    cwd: root,
    encoding: 'utf8',
    shell: process.platform === 'win32', // npm is npm.cmd there
  })
  const skip = packed.status !== 0 && `npm pack failed: ${packed.stderr}`
  if (!skip) {
    mkdirSync(dir, { recursive: true })
    spawnSync('tar', ['-xzf', join(tmp, JSON.parse(packed.stdout)[0].filename), '-C', dir, '--strip-components=1'])
  }
  // The generated loader: binding.js after the JS-face redesign, index.js before it.
  const loader = existsSync(join(dir, 'binding.js')) ? 'binding.js' : 'index.js'
  const run = (code) =>
    spawnSync(process.execPath, ['-e', code], {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, NAPI_RS_NATIVE_LIBRARY_PATH: '' },
    })

  after(() => rmSync(tmp, { recursive: true, force: true }))

  test("the loader's failure, explained, names the missing platform package", { skip }, () => {
    assert.equal(existsSync(join(dir, '.git')), false)
    const child = run(`
      const { loadError } = require('./node_modules/native-sse/lib/internal/load-error.js')
      try { require('./node_modules/native-sse/${loader}') } catch (e) { throw loadError(e) }`)
    assert.notEqual(child.status, 0)
    assert.match(child.stderr, /native-sse could not load its native addon on/)
    assert.match(child.stderr, /npm install native-sse-[\w-]+@\d|No prebuilt binary exists/)
    assert.match(child.stderr, /Cannot find module 'native-sse-/)
    assert.match(child.stderr, /code: 'ERR_NATIVE_SSE_LOAD'/)
  })

  test('a damaged .node file is reported as not loadable, not as missing', { skip }, () => {
    const musl = process.platform === 'linux' && !process.report.getReport().header.glibcVersionRuntime
    const name = `native-sse.${platformName(process.platform, process.arch, musl)}.node`
    // A Git LFS pointer where the binary should be, padded past the size of an ELF header.
    writeFileSync(join(dir, name), 'version https://git-lfs.github.com/spec/v1\n'.padEnd(4096, '#'))
    try {
      const child = run(`
        const { loadError } = require('./node_modules/native-sse/lib/internal/load-error.js')
        try { require('./node_modules/native-sse/${loader}') } catch (e) { throw loadError(e) }`)
      assert.notEqual(child.status, 0)
      assert.match(child.stderr, /cannot be loaded on .*built for another CPU or OS, or is damaged/)
      assert.match(child.stderr, /invalid ELF header|not a valid Win32|mach-o/)
    } finally {
      rmSync(join(dir, name))
    }
  })

  test('require("native-sse") itself throws the explained message', { skip }, () => {
    const child = run(`require('native-sse')`)
    assert.notEqual(child.status, 0)
    assert.match(child.stderr, /native-sse could not load its native addon on/)
    assert.doesNotMatch(child.stderr, /npm has a bug/)
  })
})
