// client.stats(): the counters kept natively, per client, checked against real local servers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, sse } from '../helpers/server.mjs'

const BODY = 'data: one\n\nid: 2\ndata: two\n\nevent: x\ndata: three\n\n'

const EMPTY = { started: 0, open: 0, events: 0, bytes: 0, reconnects: 0, errors: {} }

test('a new client counts nothing', () => {
  assert.deepEqual(new SSEClient().stats(), EMPTY)
})

test('a request that reconnects once counts its events, its bytes, the reconnect and the error by code', async () => {
  let n = 0
  const upstream = await startServer((req, res) => {
    if (n++ === 0) return req.socket.destroy()
    sse(res, BODY)
  })
  try {
    const client = new SSEClient()
    assert.equal(await client.create().post({ url: upstream.url, retryDelay: 1 }).done, 'end')
    assert.deepEqual(client.stats(), {
      started: 1,
      open: 0,
      events: 3,
      bytes: Buffer.byteLength(BODY),
      reconnects: 1,
      errors: { NETWORK: 1 },
    })
    // Another client's counters are its own.
    assert.deepEqual(new SSEClient().stats(), EMPTY)
  } finally {
    await upstream.close()
  }
})

test('final errors are counted by code, without a reconnect', async () => {
  const upstream = await startServer((req, res) => res.writeHead(404).end('no'))
  try {
    const client = new SSEClient()
    const sse = client.create()
    await assert.rejects(sse.post({ url: upstream.url }).done, { code: 'HTTP_STATUS' })
    await assert.rejects(sse.post({ url: upstream.url }).done, { code: 'HTTP_STATUS' })
    await assert.rejects(sse.post({ url: 'http://127.0.0.1:1/', reconnectCount: 0 }).done, { code: 'NETWORK' })
    const stats = client.stats()
    assert.deepEqual(stats.errors, { HTTP_STATUS: 2, NETWORK: 1 })
    assert.equal(stats.reconnects, 0)
    assert.equal(stats.started, 3)
    assert.equal(stats.open, 0)
  } finally {
    await upstream.close()
  }
})

test('an open request counts as open, with the events so far, until it is aborted', async () => {
  const upstream = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: a\n\ndata: b\n\n')
  })
  try {
    const client = new SSEClient()
    let seen
    const two = new Promise((resolve) => {
      let got = 0
      const req = client.create().post({
        url: upstream.url,
        onMessage: () => {
          if (++got === 2) {
            seen = client.stats()
            resolve(req)
          }
        },
      })
    })
    const req = await two
    assert.equal(seen.open, 1)
    assert.equal(seen.events, 2)
    assert.equal(seen.bytes, Buffer.byteLength('data: a\n\ndata: b\n\n'))
    req.abort()
    // The aborted task lets go of its count once it has stopped: wait for it.
    while (client.stats().open !== 0) await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(client.stats().errors, {})
  } finally {
    await upstream.close()
  }
})

test('events that select drops (selectMissing: drop) are not counted as delivered', async () => {
  const body = 'data: {"t":"a"}\n\ndata: [DONE]\n\ndata: {"t":"b"}\n\n'
  const upstream = await startServer((req, res) => sse(res, body))
  try {
    const client = new SSEClient()
    const got = []
    const req = client.create().post({
      url: upstream.url,
      select: '/t',
      selectMissing: 'drop',
      onMessage: (m) => got.push(m.data),
    })
    assert.equal(await req.done, 'end')
    assert.deepEqual(got, ['a', 'b'])
    assert.equal(client.stats().events, 2)
  } finally {
    await upstream.close()
  }
})

test('with named select pointers, stats count one event per message delivered (one per name found)', async () => {
  // Two names found in the first event, one in the second, none in the third (dropped).
  const body = 'data: {"a":"1","b":"2"}\n\ndata: {"b":"3"}\n\ndata: {"c":"4"}\n\n'
  const upstream = await startServer((req, res) => sse(res, body))
  try {
    const client = new SSEClient()
    const got = []
    const req = client.create().post({
      url: upstream.url,
      select: { a: '/a', b: '/b' },
      selectMissing: 'drop',
      onMessage: (m) => got.push(`${m.event}=${m.data}`),
    })
    assert.equal(await req.done, 'end')
    assert.deepEqual(got, ['a=1', 'b=2', 'b=3'])
    assert.equal(client.stats().events, 3)
  } finally {
    await upstream.close()
  }
})
