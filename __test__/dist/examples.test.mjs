// The examples run: the TypeScript chat client is compiled with tsc and run against the embedded
// OpenAI-compatible server, and `npm run demo:resume` tells its story with and without redis-server
// (the demo and the relay have their own tests).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { startOpenAIServer } from '../../examples/openai-server.mjs'
import { root, runNode } from '../helpers/child.mjs'
import { redisSkip } from '../helpers/redis.mjs'

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

// What the resume demo's page shows at the end: the answer its embedded server generates, whole.
const RESUMED_ANSWER =
  'You asked: "Can an answer survive a reconnect?". Yes: every event of the answer is appended to a log in ' +
  'Redis and carries the log id as its SSE id, so a browser that reconnects to any instance with its ' +
  'Last-Event-ID gets exactly the events it missed, then the live ones, until the answer ends.'

/** Runs examples/resume-demo.mjs with `env`; resolves with { code, out }. */
async function runResumeDemo(env) {
  const child = spawn(process.execPath, ['examples/resume-demo.mjs'], { cwd: root, env })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const [code] = await once(child, 'exit')
  clearTimeout(timer)
  return { code, out }
}

/** The answer the demo's page ends up showing (the line after its heading). */
const shownAnswer = (out) => out.split('The answer as the page shows it:\n')[1]?.split('\n')[0]

test(
  'npm run demo:resume: cut from instance A mid-answer, the page resumes through B and shows the whole answer once',
  { skip: redisSkip },
  async () => {
    const { code, out } = await runResumeDemo(process.env)
    assert.equal(code, 0, out)
    assert.match(out, /the connection drops after 15 tokens; the last event id the page saw: \d+-\d+/)
    assert.match(out, /B answered HTTP 200 and ended with the terminal event 'end'/)
    assert.equal(shownAnswer(out), RESUMED_ANSWER)
    // Act 2: A killed while producing; B's reader is told.
    assert.match(out, /The reader on B got the terminal event 'interrupted' \d+ ms later/)
  },
)

test('npm run demo:resume without redis-server says what to install and runs on the in-memory store', async () => {
  // No PATH: redis-server cannot be found (the demo starts its children with process.execPath).
  const { code, out } = await runResumeDemo({ ...process.env, PATH: '/nonexistent' })
  assert.equal(code, 0, out)
  assert.match(out, /apt-get install redis-server/)
  assert.match(out, /brew install redis/)
  assert.equal(shownAnswer(out), RESUMED_ANSWER)
})
