// Issue 3: timeouts, reconnects with Last-Event-ID, retry, and a typed error for every fault. Each
// fault is injected by a real server on 127.0.0.1; the times are short explicit timeouts.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { runModule } from '../helpers/child.mjs'
import { selfSignedCert } from '../helpers/tls.mjs'
import { startServer, startRawServer, sse, collect, delay, SSE_HEAD } from '../helpers/server.mjs'

const client = new SSEClient({ retryDelay: 10 })
const instance = client.create()

test('headers then silence: TIMEOUT, then a reconnect with Last-Event-ID resumes with nothing lost or repeated', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (srv.requests.length === 1) {
      res.write('id: 1\ndata: a\n\nid: 2\ndata: b\n\n')
      return // silent from here on
    }
    const from = Number(req.headers['last-event-id'])
    res.end(`id: ${from + 1}\ndata: c\n\n`)
  })
  try {
    const got = collect(instance, { url: srv.url, body: { q: 'same body' }, timeout: 200 })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => [m.id, m.data]),
      [
        ['1', 'a'],
        ['2', 'b'],
        ['3', 'c'],
      ],
    )
    assert.deepEqual(
      got.errors.map((e) => [e.code, e.attempt, e.willRetry]),
      [['TIMEOUT', 0, true]],
    )
    assert.equal(srv.requests.length, 2)
    assert.equal(srv.requests[0].headers['last-event-id'], undefined)
    assert.equal(srv.requests[1].headers['last-event-id'], '2')
    // The reconnect is the same request again.
    assert.equal(srv.requests[1].method, 'POST')
    assert.deepEqual(srv.requests[1].body, srv.requests[0].body)
    assert.equal(got.closes, 1)
  } finally {
    await srv.close()
  }
})

test('no response at all: TIMEOUT naming the phase', async () => {
  const srv = await startRawServer(() => {})
  try {
    const { error } = await collect(instance, { url: srv.url, timeout: 150, reconnectCount: 0 }).done
    assert.equal(error.code, 'TIMEOUT')
    assert.match(error.message, /150 ?ms/)
    assert.equal(srv.connections, 1)
  } finally {
    await srv.close()
  }
})

test('a dropped connection is retried exactly reconnectCount times, then done rejects', async () => {
  const srv = await startRawServer((socket) => socket.destroy())
  try {
    const got = collect(instance, { url: srv.url, reconnectCount: 3 })
    const { error } = await got.done
    assert.equal(error.code, 'NETWORK')
    assert.equal(srv.connections, 4)
    assert.deepEqual(
      got.errors.map((e) => [e.attempt, e.willRetry]),
      [
        [0, true],
        [1, true],
        [2, true],
        [3, false],
      ],
    )
    assert.equal(got.errors.at(-1), error)
    assert.equal(got.closes, 1)
  } finally {
    await srv.close()
  }
})

test('reconnectCount 0: one attempt only', async () => {
  const srv = await startRawServer((socket) => socket.destroy())
  try {
    const got = collect(instance, { url: srv.url, reconnectCount: 0 })
    assert.equal((await got.done).error.code, 'NETWORK')
    assert.equal(srv.connections, 1)
    assert.equal(got.errors.length, 1)
  } finally {
    await srv.close()
  }
})

test('a retry field sets the wait before the reconnect', async () => {
  const arrivals = []
  const srv = await startRawServer((socket) => {
    arrivals.push(performance.now())
    if (arrivals.length === 1) {
      socket.write(SSE_HEAD + 'retry: 300\n\n: no event yet\n\n')
      // A reset, not a FIN: with `connection: close` a FIN is the clean end of the body.
      setTimeout(() => socket.resetAndDestroy(), 5)
    } else {
      socket.end(SSE_HEAD + 'data: back\n\n')
    }
  })
  try {
    const got = collect(instance, { url: srv.url })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['back'],
    )
    const waited = arrivals[1] - arrivals[0]
    // retryDelay is 10 ms here: only the server's retry field explains a wait of 300 ms.
    assert.ok(waited >= 290, `reconnected after ${waited.toFixed(0)} ms`)
  } finally {
    await srv.close()
  }
})

test('429 with Retry-After waits for it, then streams', async () => {
  const arrivals = []
  const srv = await startServer((req, res) => {
    arrivals.push(performance.now())
    if (arrivals.length === 1) {
      res.writeHead(429, { 'retry-after': '1', 'content-type': 'text/plain' })
      res.end('slow down')
      return
    }
    sse(res, 'data: ok\n\n')
  })
  try {
    const got = collect(instance, { url: srv.url })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.errors.map((e) => [e.code, e.status, e.body, e.willRetry]),
      [['HTTP_STATUS', 429, 'slow down', true]],
    )
    assert.ok(arrivals[1] - arrivals[0] >= 990, `retried after ${(arrivals[1] - arrivals[0]).toFixed(0)} ms`)
  } finally {
    await srv.close()
  }
})

test('a reset mid-event: the partial event is not dispatched, and no id means no re-sent POST', async () => {
  const srv = await startRawServer((socket) => {
    socket.write(SSE_HEAD + 'data: full\n\ndata: par')
    setTimeout(() => socket.resetAndDestroy(), 20)
  })
  try {
    const got = collect(instance, { url: srv.url })
    const { error } = await got.done
    assert.equal(error.code, 'NETWORK')
    assert.equal(error.willRetry, false)
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['full'],
    )
    assert.equal(srv.connections, 1)
  } finally {
    await srv.close()
  }
})

test('a truncated chunked body is a drop: reconnected with Last-Event-ID', async () => {
  const srv = await startRawServer((socket, head) => {
    if (!/last-event-id/i.test(head)) {
      const body = 'id: 41\ndata: first\n\n'
      socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n')
      socket.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n`)
      setTimeout(() => socket.end(), 20) // no terminating 0-length chunk
    } else {
      assert.match(head, /last-event-id: 41\r\n/i)
      socket.end(SSE_HEAD + 'id: 42\ndata: second\n\n')
    }
  })
  try {
    const got = collect(instance, { url: srv.url })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['first', 'second'],
    )
    assert.equal(got.errors[0].code, 'NETWORK')
    assert.equal(got.req.lastEventId, '42')
  } finally {
    await srv.close()
  }
})

test('a slow trickle of one byte at a time within the timeout succeeds', async () => {
  const text = Buffer.from('data: slow\n\n')
  const srv = await startRawServer(async (socket) => {
    socket.write(SSE_HEAD)
    for (const byte of text) {
      await delay(40)
      if (socket.destroyed) return
      socket.write(Buffer.from([byte]))
    }
    socket.end()
  })
  try {
    // The whole body takes about 500 ms, longer than the timeout: only silence counts.
    const got = collect(instance, { url: srv.url, timeout: 300, reconnectCount: 0 })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['slow'],
    )
  } finally {
    await srv.close()
  }
})

test('a 50 MB event with maxEventSize 1 MiB fails fast with EVENT_TOO_LARGE', async () => {
  let written = 0
  const block = Buffer.alloc(64 * 1024, 'x')
  let serverDone
  const serverStopped = new Promise((resolve) => (serverDone = resolve))
  const srv = await startRawServer(async (socket) => {
    socket.write(SSE_HEAD + 'data: ')
    while (written < 50 * 1024 * 1024 && !socket.destroyed) {
      written += block.length
      if (!socket.write(block)) await Promise.race([once(socket, 'drain'), once(socket, 'close')]).catch(() => {})
    }
    socket.end()
    serverDone()
  })
  try {
    const got = collect(instance, { url: srv.url, maxEventSize: 1024 * 1024 })
    const { error } = await got.done
    assert.equal(error.code, 'EVENT_TOO_LARGE')
    assert.match(error.message, /maxEventSize \(1048576 bytes\)/)
    assert.equal(got.messages.length, 0)
    assert.equal(srv.connections, 1)
    // The client closed the connection at the limit: the server's loop ended nowhere near 50 MB.
    await serverStopped
    assert.ok(written < 16 * 1024 * 1024, `server wrote ${written} bytes`)
  } finally {
    await srv.close()
  }
})

test('a throwing onMessage without onError surfaces as an uncaught exception', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    const { code, out } = await runModule(
      `import { SSEClient } from './index.mjs'
       process.on('uncaughtException', (err) => { console.log('uncaught:', err.message); process.exit(3) })
       new SSEClient().create().post({ url: process.argv[1], onMessage() { throw new Error('from callback') } })`,
      [srv.url],
    )
    assert.equal(code, 3, out)
    assert.equal(out, 'uncaught: from callback\n')
  } finally {
    await srv.close()
  }
})

test('a redirect to another origin keeps method and body but not Authorization or Cookie', async () => {
  const target = await startServer((req, res) => sse(res, 'data: moved\n\n'))
  const origin = await startServer((req, res) => {
    res.writeHead(307, { location: target.url })
    res.end()
  })
  try {
    const got = collect(instance, {
      url: origin.url,
      body: { keep: 'me' },
      headers: { authorization: 'Bearer secret', cookie: 'sid=1', 'x-custom': 'kept' },
    })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['moved'],
    )
    assert.equal(origin.requests[0].headers.authorization, 'Bearer secret')
    const moved = target.requests[0]
    assert.equal(moved.method, 'POST')
    assert.deepEqual(JSON.parse(moved.body), { keep: 'me' })
    assert.equal(moved.headers.authorization, undefined)
    assert.equal(moved.headers.cookie, undefined)
    assert.equal(moved.headers['x-custom'], 'kept')
  } finally {
    await origin.close()
    await target.close()
  }
})

test('a self-signed HTTPS server gives TLS; trusting its certificate with `ca` works', async (t) => {
  const pair = selfSignedCert()
  if (pair === null) {
    t.skip('openssl is not installed: cannot make a self-signed certificate')
    return
  }
  const { key, cert } = pair
  const server = https.createServer({ key, cert }, (req, res) => {
    req.resume()
    sse(res, 'data: secure\n\n')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `https://127.0.0.1:${server.address().port}/sse`
  try {
    const { error } = await collect(instance, { url, reconnectCount: 0 }).done
    assert.equal(error.code, 'TLS')
    assert.match(error.message, /certificate/i)
    const trusted = collect(new SSEClient({ ca: cert }).create(), { url })
    assert.deepEqual(await trusted.done, { ok: true })
    assert.deepEqual(
      trusted.messages.map((m) => m.data),
      ['secure'],
    )
  } finally {
    server.closeAllConnections()
    server.close()
  }
})

test('abort during a reconnect wait cancels the wait: no further attempt', async () => {
  const srv = await startRawServer((socket) => socket.destroy())
  try {
    let req
    const errors = []
    req = instance.post({
      url: srv.url,
      retryDelay: 300,
      onError: (err) => {
        errors.push(err)
        req.abort()
      },
    })
    await req.done
    // An absence in time: only waiting past retryDelay (300 ms) can show that no reconnect comes.
    await delay(600)
    assert.equal(srv.connections, 1)
    assert.equal(errors.length, 1)
    assert.equal(errors[0].willRetry, true)
  } finally {
    await srv.close()
  }
})

for (const [setting, withId, reconnects] of [
  ['with-id', false, false],
  ['with-id', true, true],
  ['always', false, true],
  ['never', true, false],
]) {
  test(`reconnectAfterEvents '${setting}', ${withId ? 'with' : 'without'} ids: ${reconnects ? '' : 'no '}reconnect after events`, async () => {
    const srv = await startRawServer((socket) => {
      if (srv.connections === 1) {
        socket.write(SSE_HEAD + (withId ? 'id: 1\n' : '') + 'data: a\n\n')
        setTimeout(() => socket.resetAndDestroy(), 20)
      } else {
        socket.end(SSE_HEAD + 'data: b\n\n')
      }
    })
    try {
      const got = collect(instance, { url: srv.url, reconnectAfterEvents: setting })
      const result = await got.done
      assert.equal(srv.connections, reconnects ? 2 : 1)
      assert.deepEqual(
        got.messages.map((m) => m.data),
        reconnects ? ['a', 'b'] : ['a'],
      )
      if (reconnects) assert.deepEqual(result, { ok: true })
      else assert.equal(result.error.code, 'NETWORK')
    } finally {
      await srv.close()
    }
  })
}

test('keep-alive comments count as progress for timeout but not for eventTimeout', async () => {
  let comments = 0
  let onComment = () => {}
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: hello\n\n')
    while (!res.destroyed) {
      res.write(': keep-alive\n\n')
      comments++
      onComment()
      await delay(40)
    }
  })
  try {
    const kept = collect(instance, { url: srv.url, timeout: 200, reconnectCount: 0 })
    // Until the server has sent 700 ms worth of comments (at least 40 ms apart), past the timeout.
    await new Promise((resolve) => {
      onComment = () => comments >= 18 && resolve()
    })
    assert.equal(kept.req.readyState, 1, 'comments every 40 ms keep a 200 ms timeout from firing')
    assert.equal(kept.errors.length, 0)
    kept.req.abort()
    const strict = collect(instance, { url: srv.url, timeout: 200, eventTimeout: 250, reconnectCount: 0 })
    const { error } = await strict.done
    assert.equal(error.code, 'TIMEOUT')
    assert.match(error.message, /event/i)
    assert.deepEqual(
      strict.messages.map((m) => m.data),
      ['hello'],
    )
  } finally {
    await srv.close()
  }
})

test('client defaults apply to every request and per-request options win', async () => {
  const srv = await startRawServer((socket) => socket.destroy())
  try {
    const strictClient = new SSEClient({ reconnectCount: 1, retryDelay: 5 })
    const a = collect(strictClient.create(), { url: srv.url })
    await a.done
    assert.equal(srv.connections, 2)
    const b = collect(strictClient.create(), { url: srv.url, reconnectCount: 0 })
    await b.done
    assert.equal(srv.connections, 3)
  } finally {
    await srv.close()
  }
})
