// The examples run: the TypeScript chat client is compiled with tsc and run against the embedded
// OpenAI-compatible server (the demo and the relay have their own tests).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { startOpenAIServer } from '../../examples/openai-server.mjs'
import { root, runNode } from '../helpers/child.mjs'

test('examples/openai-chat.ts compiles and streams a completion from the embedded server', async (t) => {
  // Inside the package (target/ is git-ignored), so that `native-sse` resolves to this package.
  const out = join(root, 'target', 'examples-ts')
  t.after(() => rmSync(out, { recursive: true, force: true }))
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
  const flags = ['--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--strict']
  const paths = ['--types', 'node', '--rootDir', 'examples', '--outDir', out, 'examples/openai-chat.ts']
  const compiled = await runNode([tsc, ...flags, ...paths], { timeoutMs: 180000 })
  assert.equal(compiled.code, 0, compiled.out)
  const server = await startOpenAIServer({ tokenDelayMs: 1 })
  try {
    const run = await runNode([join(out, 'openai-chat.js'), server.url, 'Hi?'])
    assert.equal(run.code, 0, run.out)
    assert.match(run.out, /^You asked: "Hi\?"\. Server-Sent Events carry/)
    assert.match(run.out, /\[\d+ tokens\]\n$/)
  } finally {
    await server.close()
  }
})
