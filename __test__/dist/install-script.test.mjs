// scripts/install.mjs, the install script of the published package, run as npm runs it in a user's
// node_modules when no binary loads: what it says when cargo or a C compiler is missing (it must stop
// before building) and how it tells the user to try again. The packed package, a real cargo; PATH
// holds only what each case allows.
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from '../helpers/child.mjs'

const which = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).stdout.trim()
const cargo = which('cargo')
const skip =
  (process.platform === 'win32' && 'PATH games are POSIX-only here') || (!cargo && 'cargo is not installed') || false

describe('install script without a usable toolchain', { skip }, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'native-sse-install-'))
  after(() => rmSync(tmp, { recursive: true, force: true }))
  const dir = join(tmp, 'app', 'node_modules', 'native-sse')
  mkdirSync(dir, { recursive: true })
  const packed = spawnSync('npm', ['pack', '--silent', '--ignore-scripts', '--json', '--pack-destination', tmp], {
    cwd: root,
    encoding: 'utf8',
    shell: process.platform === 'win32', // npm is npm.cmd there
  })
  assert.equal(packed.status, 0, packed.stderr)
  spawnSync('tar', ['-xzf', join(tmp, JSON.parse(packed.stdout)[0].filename), '-C', dir, '--strip-components=1'])

  // bin/<name>: a PATH with node, and with cargo only where asked; no cc, gcc or clang.
  const bin = (name, tools) => {
    const path = join(tmp, name)
    mkdirSync(path)
    symlinkSync(process.execPath, join(path, 'node'))
    for (const tool of tools) symlinkSync(which(tool), join(path, tool))
    return path
  }
  const onlyNode = bin('only-node', [])
  const noCompiler = bin('no-compiler', ['cargo', 'sh'])

  const install = (path, env = {}) =>
    spawnSync(process.execPath, ['scripts/install.mjs'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        HOME: process.env.HOME,
        RUSTUP_HOME: process.env.RUSTUP_HOME,
        CARGO_HOME: process.env.CARGO_HOME,
        PATH: path,
        npm_command: 'install',
        npm_config_user_agent: 'npm/11.0.0 node/v20.0.0 linux x64 workspaces/false',
        ...env,
      },
    })

  test('without cargo it fails at once, naming Rust, a C compiler, and `npm install` as the retry', () => {
    const run = install(onlyNode)
    assert.equal(run.status, 1, run.stderr)
    assert.match(run.stderr, /needs Rust's cargo, which is not on PATH/)
    assert.match(run.stderr, /https:\/\/rustup\.rs/)
    assert.match(run.stderr, /run `npm install` again \(npm rolled this install back, so `npm rebuild` has nothing/)
  })

  test('with cargo but no C compiler it fails before building, and says which package to install', () => {
    const run = install(noCompiler)
    assert.equal(run.status, 1, run.stderr)
    assert.match(run.stderr, /needs a C compiler/)
    assert.match(run.stderr, /none was found \(cc, gcc, clang, CC\)/)
    assert.match(run.stderr, process.platform === 'darwin' ? /xcode-select --install/ : /build-essential/)
    assert.doesNotMatch(run.stderr, /Compiling/)
  })

  test('a CC that does not run counts as no compiler', () => {
    const run = install(noCompiler, { CC: join(tmp, 'no-such-cc') })
    assert.equal(run.status, 1, run.stderr)
    assert.match(run.stderr, /needs a C compiler/)
  })

  test('a failed `npm rebuild` is retried with `npm rebuild`; pnpm and Bun with their install', () => {
    assert.match(install(onlyNode, { npm_command: 'rebuild' }).stderr, /run `npm rebuild native-sse` again/)
    assert.match(
      install(onlyNode, { npm_config_user_agent: 'pnpm/10.0.0 npm/? node/v20' }).stderr,
      /run `pnpm install` again/,
    )
    assert.match(
      install(onlyNode, { npm_config_user_agent: 'bun/1.2.0 npm/? node/v20' }).stderr,
      /run `bun install` again/,
    )
  })
})
