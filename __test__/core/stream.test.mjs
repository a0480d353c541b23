// stream(): the async-iterator form of post, its early exits, errors and back-pressure.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, sse, delay, startFlood } from '../helpers/server.mjs'

test('stream() yields the messages as an async iterator and ends with the stream', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: a\n\nevent: e\ndata: b\n\n'))
  try {
    const seen = []
    for await (const msg of new SSEClient().create().stream({ url: srv.url, body: { q: 1 } })) seen.push(msg)
    assert.deepEqual(seen, [
      { data: 'a', event: 'message', id: '' },
      { data: 'b', event: 'e', id: '' },
    ])
    assert.equal(srv.requests[0].method, 'POST')
  } finally {
    await srv.close()
  }
})

test('stream() sends the method it is given, as request() and relay() do (POST by default)', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: a\n\n'))
  try {
    const sse_ = new SSEClient().create()
    for await (const msg of sse_.stream({ url: srv.url, method: 'get' })) void msg
    for await (const msg of sse_.stream({ url: srv.url, method: 'PUT', body: { q: 1 } })) void msg
    assert.deepEqual(
      srv.requests.map((r) => r.method),
      ['GET', 'PUT'],
    )
    assert.throws(() => sse_.stream({ url: srv.url, method: 'TRACE' }), { code: 'INVALID_OPTIONS' })
  } finally {
    await srv.close()
  }
})

test('stream(): break aborts the request; a failure is thrown from the loop', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/fail') {
      res.writeHead(500)
      res.end('down')
      return
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\ndata: 2\n\n')
  })
  try {
    const instance = new SSEClient().create()
    const stream = instance.stream({ url: srv.url })
    for await (const msg of stream) {
      assert.equal(msg.data, '1')
      break
    }
    await stream.done
    assert.equal(stream.request.readyState, 2)
    await srv.idle()
    await assert.rejects(
      async () => {
        for await (const msg of instance.stream({ url: `${srv.base}/fail` })) assert.fail(msg.data)
      },
      { code: 'HTTP_STATUS', status: 500 },
    )
  } finally {
    await srv.close()
  }
})

test('stream(): a slow loop pauses the socket instead of buffering without bound, and loses nothing', async () => {
  const total = 40_000
  const payload = 'x'.repeat(1000)
  const srv = await startFlood({ total, payload })
  const { flood } = srv
  try {
    // timeout 500 ms: a consumer that waits far longer must not make the client time out.
    const stream = new SSEClient().create().stream({ url: srv.url, timeout: 500, reconnectCount: 0 })
    const iterator = stream[Symbol.asyncIterator]()
    const first = await iterator.next()
    assert.equal(first.value.id, '0')
    // An absence in time (the server makes no progress while the loop reads nothing): only a wait
    // can show it; the 40 MB offered would all be out within it if nothing held the socket.
    await delay(1500)
    // 40 MB were offered; TCP buffers, the native batch (4 MiB) and the loop's queue hold far less.
    assert.equal(flood.finished, false, `the server wrote all ${flood.written} events while the loop was not reading`)
    assert.ok(flood.written < total)
    let count = 1
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      assert.equal(next.value.id, String(count))
      count++
    }
    assert.equal(count, total)
    await stream.done
  } finally {
    await srv.close()
  }
})

test('stream(): abort() ends the loop after the messages already received', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    // One write: the three events arrive in one batch, before the loop takes the first.
    res.write('data: 1\n\ndata: 2\n\ndata: 3\n\n')
  })
  try {
    const stream = new SSEClient().create().stream({ url: srv.url })
    const seen = []
    for await (const msg of stream) {
      seen.push(msg.data)
      if (seen.length === 1) stream.abort()
    }
    assert.deepEqual(seen, ['1', '2', '3'])
    await stream.done
    assert.equal(stream.request.readyState, 2)
    await srv.idle()
  } finally {
    await srv.close()
  }
})

test('stream(): onOpen, onError and onClose given to stream() still fire; only messages go to the loop', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: 1\n\ndata: 2\n\n'))
  try {
    const calls = []
    const stream = new SSEClient().create().stream({
      url: srv.url,
      onOpen: (info) => calls.push(`open ${info.status}`),
      onClose: () => calls.push('close'),
    })
    const seen = []
    for await (const msg of stream) seen.push(msg.data)
    assert.deepEqual(seen, ['1', '2'])
    assert.deepEqual(calls, ['open 200', 'close'])
    assert.equal(await stream.done, 'end')
  } finally {
    await srv.close()
  }
})
