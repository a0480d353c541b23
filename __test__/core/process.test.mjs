// The process lifetime and module formats: open requests keep Node alive, finished ones do not, and
// both `import` and `require` load the same addon.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import * as esm from '../../index.mjs'
import { startServer, sse, unusedPort } from '../helpers/server.mjs'
import { runModule, runNode } from '../helpers/child.mjs'

test('a script that streams once exits by itself after the stream ends', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: one\n\ndata: two\n\n'))
  try {
    const { code, signal, out } = await runModule(
      `import { SSEClient } from './index.mjs'
       const sse = new SSEClient().create()
       sse.post({ url: process.argv[1], body: { name: 'andy' }, onMessage: ({ data }) => console.log(data) })`,
      [srv.url],
    )
    assert.equal(signal, null, 'the child had to be killed: it did not exit by itself')
    assert.equal(code, 0, out)
    assert.equal(out, 'one\ntwo\n')
  } finally {
    await srv.close()
  }
})

test('an open request keeps the process alive until the stream ends, an aborted one does not', async () => {
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (req.url === '/slow') {
      // Silent for a while (nothing else in the child keeps it alive), then one event.
      await new Promise((resolve) => setTimeout(resolve, 300))
      res.end('data: late\n\n')
    } else {
      res.write(': never ends\n\n')
    }
  })
  try {
    const slow = await runModule(
      `import { SSEClient } from './index.mjs'
       new SSEClient().create().post({ url: process.argv[1], onMessage: ({ data }) => console.log(data) })`,
      [`${srv.base}/slow`],
    )
    assert.equal(slow.code, 0, slow.out)
    assert.equal(slow.out, 'late\n')
    const aborted = await runModule(
      `import { SSEClient } from './index.mjs'
       const req = new SSEClient().create().post({ url: process.argv[1], onOpen: () => { req.abort(); console.log('aborted') } })`,
      [`${srv.base}/forever`],
    )
    assert.equal(aborted.signal, null, 'the child had to be killed: an aborted request kept it alive')
    assert.equal(aborted.code, 0, aborted.out)
    assert.equal(aborted.out, 'aborted\n')
  } finally {
    await srv.close()
  }
})

test('ESM import and CommonJS require give the same classes', () => {
  const cjs = createRequire(import.meta.url)('../../index.js')
  assert.equal(esm.SSEClient, cjs.SSEClient)
  assert.equal(esm.ServerSentEvents, cjs.ServerSentEvents)
  assert.equal(esm.SseRequest, cjs.SseRequest)
  assert.equal(typeof new cjs.SSEClient().create().post, 'function')
})

test('the package resolves by name in both formats', async () => {
  const { code, out } = await runModule(
    `import { SSEClient } from 'native-sse'
     import { createRequire } from 'node:module'
     const { SSEClient: FromRequire } = createRequire(import.meta.url)('native-sse')
     console.log(SSEClient === FromRequire, typeof new SSEClient().create().stream)`,
  )
  assert.equal(code, 0, out)
  assert.equal(out, 'true function\n')
})

test('the demo streams a chat completion from its embedded server and exits', async () => {
  const { code, out } = await runNode(['examples/demo.mjs'], { timeoutMs: 30000 })
  assert.equal(code, 0, out)
  assert.match(out, /connected: HTTP 200/)
  assert.match(out, /You asked: "What is native-sse\?"/)
  assert.match(out, /\d+ tokens, first after/)
})

test('a failing request nobody awaits causes no unhandled rejection', async () => {
  const port = await unusedPort()
  const { code, out } = await runModule(
    `import { SSEClient } from './index.mjs'
     process.on('unhandledRejection', (err) => { console.log('unhandled:', err.code); process.exit(4) })
     // done is left alone: only onError tells that the request failed.
     new SSEClient().create().post({
       url: process.argv[1],
       reconnectCount: 0,
       onError: (err) => setTimeout(() => console.log('failed:', err.code), 20),
     })`,
    [`http://127.0.0.1:${port}/`],
  )
  assert.equal(code, 0, out)
  assert.equal(out, 'failed: NETWORK\n')
})

test('NATIVE_SSE_WORKER_THREADS sets how many threads the runtime runs requests on', async (t) => {
  if (process.platform !== 'linux') return t.skip('counts threads through /proc/self/task')
  const srv = await startServer((req, res) => sse(res, 'data: one\n\n'))
  try {
    // The runtime's threads are named native-sse; an IP literal needs no resolver thread.
    const count = async (env) => {
      const { code, out } = await runModule(
        `import { readdirSync, readFileSync } from 'node:fs'
         import { SSEClient } from './index.mjs'
         await new SSEClient().create().post({ url: process.argv[1] }).done
         const names = readdirSync('/proc/self/task').map((t) => readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim())
         console.log(names.filter((n) => n === 'native-sse').length)`,
        [srv.url],
        { env },
      )
      assert.equal(code, 0, out)
      return Number(out)
    }
    assert.equal(await count({ NATIVE_SSE_WORKER_THREADS: '1' }), 1)
    assert.equal(await count({ NATIVE_SSE_WORKER_THREADS: '3' }), 3)
    assert.equal(await count({ NATIVE_SSE_WORKER_THREADS: 'many' }), 2)
  } finally {
    await srv.close()
  }
})
