// esbuild, with the two configs docs/bundlers.md gives: `native-sse` kept external (resolved from
// node_modules at run time), and bundled with the .node copied next to the output (`--loader:.node=copy`),
// run from a folder with no node_modules at all. Each bundle streams one event from a local server.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { root, runNode } from '../helpers/child.mjs'
import { sse, startServer } from '../helpers/server.mjs'

// The app: one POST, prints the event's data. Its URL comes from argv.
const app = (importLine) => `${importLine}
const request = new SSEClient().create().post({
  url: process.argv[2],
  body: { prompt: 'bundled?' },
  onMessage: (msg) => console.log('event:', msg.data),
})
request.done.then(() => console.log('ended'), (err) => { console.error('failed:', err.code, err.message); process.exit(1) })
`

async function bundleAndRun(t, { entry, format, external, withNodeModules, banner }) {
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-esbuild-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  if (withNodeModules) {
    mkdirSync(join(dir, 'node_modules'))
    symlinkSync(root, join(dir, 'node_modules', 'native-sse'), 'junction')
  }
  const outfile = join(dir, 'dist', format === 'esm' ? 'app.mjs' : 'app.cjs')
  const result = await build({
    stdin: { contents: entry, resolveDir: root, sourcefile: 'app.js', loader: 'js' },
    bundle: true,
    platform: 'node',
    format,
    outfile,
    external,
    loader: { '.node': 'copy' },
    logLevel: 'silent',
    banner: banner ? { js: banner } : undefined,
    // Bundled: `native-sse` is this package (an app would have it in node_modules).
    alias: external.length ? {} : { 'native-sse': root },
  })
  assert.deepEqual(result.errors, [])
  const server = await startServer((req, res, body) => sse(res, `data: ${JSON.parse(body).prompt}\n\n`))
  t.after(() => server.close())
  const run = await runNode([outfile, server.url], { timeoutMs: 20_000 })
  return { run, dir, files: readdirSync(join(dir, 'dist')) }
}

test('esbuild with native-sse external: the bundle loads it from node_modules and streams', async (t) => {
  const { run, files } = await bundleAndRun(t, {
    entry: app("const { SSEClient } = require('native-sse')"),
    format: 'cjs',
    external: ['native-sse'],
    withNodeModules: true,
  })
  assert.equal(run.code, 0, run.out)
  assert.equal(run.out, 'event: bundled?\nended\n')
  assert.deepEqual(files, ['app.cjs'])
})

test('esbuild with --loader:.node=copy: a bundle with no node_modules beside it streams', async (t) => {
  const { run, dir, files } = await bundleAndRun(t, {
    entry: app("const { SSEClient } = require('native-sse')"),
    format: 'cjs',
    external: [],
    withNodeModules: false,
  })
  assert.equal(existsSync(join(dir, 'node_modules')), false)
  assert.ok(
    files.some((f) => /^native-sse\..+\.node$/.test(f)),
    `the binary is copied: ${files}`,
  )
  assert.equal(run.code, 0, run.out)
  assert.equal(run.out, 'event: bundled?\nended\n')
})

// ESM output: esbuild turns the `require()` calls of the CommonJS modules it bundles (this package's
// and Node built-ins') into a `__require` that throws "Dynamic require of ... is not supported"
// unless a `require` is in scope; the banner docs/bundlers.md gives defines one.
test('esbuild, ESM app with --loader:.node=copy and the createRequire banner: the bundled ESM entry streams', async (t) => {
  const { run, files } = await bundleAndRun(t, {
    entry: app("import { SSEClient } from 'native-sse'"),
    format: 'esm',
    external: [],
    withNodeModules: false,
    banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  })
  assert.ok(
    files.some((f) => /^native-sse\..+\.node$/.test(f)),
    `the binary is copied: ${files}`,
  )
  assert.equal(run.code, 0, run.out)
  assert.equal(run.out, 'event: bundled?\nended\n')
})
