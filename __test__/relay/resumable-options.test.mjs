// Resumable relays: what is refused at once (bad ids, bad store options, a transform), and what a
// closed client answers. In-process, on the in-memory store.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { startUpstream, readStream } from '../helpers/resumable.mjs'

test('bad store options throw INVALID_OPTIONS from the constructor, naming the option', () => {
  assert.throws(() => new SSEClient({ store: 'http://127.0.0.1:6379' }), {
    code: 'INVALID_OPTIONS',
    message: /redis:\/\/ or rediss:\/\/ URL/,
  })
  assert.throws(() => new SSEClient({ store: { ttl: -1 } }), { code: 'INVALID_OPTIONS', message: /store\.ttl/ })
  assert.throws(() => new SSEClient({ store: { maxLen: 0 } }), { code: 'INVALID_OPTIONS', message: /store\.maxLen/ })
  assert.throws(() => new SSEClient({ store: { lease: '3s' } }), {
    code: 'INVALID_OPTIONS',
    message: 'store.lease must be a number, got string',
  })
  assert.throws(() => new SSEClient({ store: 6379 }), { code: 'INVALID_OPTIONS', message: /store must be/ })
  // The password of a refused URL never shows.
  assert.throws(
    () => new SSEClient({ store: 'http://user:hunter2@127.0.0.1:6379' }),
    (err) => err.code === 'INVALID_OPTIONS' && !err.message.includes('hunter2'),
  )
})

test('a bad generation id or a transform with resumable throws INVALID_OPTIONS before any header', async () => {
  const sse = new SSEClient().create()
  const res = new http.ServerResponse(new http.IncomingMessage(null))
  assert.throws(() => sse.relay(res, { url: 'http://127.0.0.1:9/', resumable: { id: 'has space' } }), {
    code: 'INVALID_OPTIONS',
    message: /generation id/,
  })
  assert.throws(() => sse.relay(res, { url: 'http://127.0.0.1:9/', resumable: { id: 'a{b}' } }), {
    code: 'INVALID_OPTIONS',
  })
  assert.throws(() => sse.relay(res, { url: 'http://127.0.0.1:9/', resumable: 'id' }), {
    code: 'INVALID_OPTIONS',
    message: /resumable must be an object/,
  })
  assert.throws(() => sse.relay(res, { url: 'http://127.0.0.1:9/', resumable: { id: 'ok' }, transform: (m) => m }), {
    code: 'INVALID_OPTIONS',
    message: /transform/,
  })
  assert.equal(res.headersSent, false)
  await assert.rejects(new SSEClient().stop(42), { code: 'INVALID_OPTIONS' })
})

test('after close(), a resumable relay is refused with CLIENT_CLOSED before any header, and stop() with STORE_CLOSED', async () => {
  const upstream = await startUpstream({ count: 3, gapMs: 1 })
  const client = new SSEClient()
  const sse = client.create()
  const seen = []
  const server = http.createServer(async (req, res) => {
    try {
      await sse.relay(res, { url: upstream.url, resumable: { id: `closed-${Date.now()}` } })
    } catch (err) {
      seen.push(err)
      res.statusCode = 503
      res.end(err.code)
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    await client.close()
    const answer = await readStream(`http://127.0.0.1:${server.address().port}/`, { method: 'POST' })
    assert.equal(answer.status, 503)
    assert.equal(answer.body, 'CLIENT_CLOSED')
    assert.equal(seen[0].code, 'CLIENT_CLOSED')
    assert.equal(upstream.requests.length, 0)
    await assert.rejects(client.stop('any'), { code: 'STORE_CLOSED' })
  } finally {
    server.close()
    await upstream.close()
  }
})
