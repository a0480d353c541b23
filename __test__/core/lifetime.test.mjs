// How long clients and instances live: close() ends a client (its requests, its idle sockets, new
// requests refused), an unreferenced client is garbage collected with its sockets, and an instance
// that was deleted or cleared refuses new requests.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient, SseError } from '../../index.mjs'
import { startServer, sse, startRoutes, settle, closeSentinel } from '../helpers/server.mjs'
import { runNode } from '../helpers/child.mjs'

after(closeSentinel)

const refused = (code) => (err) => {
  assert.ok(err instanceof SseError, `an SseError, got ${err}`)
  assert.equal(err.code, code)
  return true
}

/** A response object relay() accepts; the relay must throw before it writes anything. */
const fakeResponse = () => ({
  write: () => assert.fail('relay wrote to the response'),
  on: () => {},
  once: () => {},
  off: () => {},
  removeListener: () => {},
})

test('client.close() aborts open requests, closes idle sockets and refuses new requests with CLIENT_CLOSED', async () => {
  const srv = await startRoutes()
  try {
    const client = new SSEClient()
    const a = client.create()
    const b = client.create()
    // One finished request leaves an idle keep-alive socket; two stalled ones stay open.
    assert.equal(await a.post({ url: srv.route('/batch?n=1') }).done, 'end')
    const opened = []
    const stalled = [a, b].map((sse) => {
      let onOpen
      opened.push(new Promise((resolve) => (onOpen = resolve)))
      return sse.post({ url: srv.route('/stalled'), onOpen })
    })
    await Promise.all(opened)
    const closing = client.close()
    assert.ok(closing instanceof Promise)
    assert.equal(await closing, undefined)
    assert.deepEqual(await Promise.all(stalled.map((r) => r.done)), ['abort', 'abort'])
    // Every socket of the client is closed, the idle one included (not after the pool's 30 s).
    await srv.idle()
    const url = srv.route('/batch?n=1')
    for (const sse of [a, b]) {
      assert.throws(() => sse.post({ url }), refused('CLIENT_CLOSED'))
      assert.throws(() => sse.request({ url, method: 'GET' }), refused('CLIENT_CLOSED'))
      assert.throws(() => sse.stream({ url }), refused('CLIENT_CLOSED'))
      assert.throws(() => sse.relay(fakeResponse(), { url }), refused('CLIENT_CLOSED'))
    }
    assert.throws(() => client.create(), refused('CLIENT_CLOSED'))
    assert.match(
      (() => {
        try {
          a.post({ url })
        } catch (err) {
          return err.message
        }
      })(),
      /closed/,
    )
    // Idempotent.
    assert.equal(await client.close(), undefined)
    // Other clients are not affected.
    assert.equal(await new SSEClient().create().post({ url }).done, 'end')
  } finally {
    await srv.close()
  }
})

test('an instance after delete() or clear() refuses post() with INSTANCE_DELETED; the client goes on', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  try {
    const client = new SSEClient()
    const deleted = client.create()
    const cleared = client.create()
    assert.equal(client.delete(deleted), true)
    for (const method of ['post', 'request', 'stream']) {
      assert.throws(() => deleted[method]({ url: srv.url }), refused('INSTANCE_DELETED'))
    }
    assert.throws(() => deleted.relay(fakeResponse(), { url: srv.url }), refused('INSTANCE_DELETED'))
    client.clear()
    assert.throws(
      () => cleared.post({ url: srv.url }),
      (err) => {
        refused('INSTANCE_DELETED')(err)
        assert.match(err.message, /create\(\)/)
        return true
      },
    )
    // New instances of the same client work.
    assert.equal(await client.create().post({ url: srv.url }).done, 'end')
    await settle(client)
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('clients that are no longer referenced are garbage collected, with their idle sockets', async () => {
  // In a child with --expose-gc, which serves itself: its server counts the client's sockets.
  const { code, signal, out } = await runNode([
    '--expose-gc',
    '--input-type=module',
    '-e',
    `import http from 'node:http'
     import { once } from 'node:events'
     import { SSEClient } from './index.mjs'
     const sockets = new Set()
     const server = http.createServer((req, res) => {
       res.writeHead(200, { 'content-type': 'text/event-stream' })
       res.end('data: ok\\n\\n')
     })
     server.on('connection', (s) => {
       sockets.add(s)
       s.on('close', () => sockets.delete(s))
     })
     server.listen(0, '127.0.0.1')
     await once(server, 'listening')
     const url = 'http://127.0.0.1:' + server.address().port + '/'
     const N = 50
     let collected = 0
     const registry = new FinalizationRegistry(() => collected++)
     async function makeClients() {
       for (let i = 0; i < N; i++) {
         const client = new SSEClient()
         const sse = client.create()
         client.create()
         // Requests, so that the clients hold idle keep-alive sockets once they ended.
         if (i < 3) await sse.post({ url }).done
         registry.register(client, i)
       }
     }
     await makeClients()
     console.log('idle sockets ' + sockets.size)
     for (let round = 0; round < 500 && collected < N; round++) {
       globalThis.gc()
       await new Promise((resolve) => setImmediate(resolve))
     }
     console.log(collected === N ? 'all collected' : 'collected ' + collected + ' of ' + N)
     // The sockets close once the collected clients' pools are dropped (not after 30 s idle).
     while (sockets.size > 0) await once([...sockets][0], 'close')
     console.log('sockets closed')
     server.close()`,
  ])
  assert.equal(signal, null, out)
  assert.equal(code, 0, out)
  assert.equal(out, 'idle sockets 3\nall collected\nsockets closed\n')
})
