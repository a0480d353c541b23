// HTTP/2 through TLS + ALPN (issue 10): many small DATA frames, a consumer that stops reading, and
// more streams than the server allows on one connection. Real servers only: Node's http2 module,
// nginx and squid (installed by .ci/run; those cases skip without them).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { collect, delay } from '../helpers/server.mjs'
import { startH2Server, startNginxH2, startSquid, SSE_HEADERS, writeEvents } from '../helpers/h2.mjs'
import { selfSignedCert } from '../helpers/tls.mjs'

const COUNT = 10000

/** Serves COUNT events of `size` bytes on every stream, one DATA frame each. */
const floodServer = (size) =>
  startH2Server((stream) => {
    stream.respond(SSE_HEADERS)
    return writeEvents(stream, COUNT, size)
  })

async function postAll(client, url) {
  const got = collect(client.create(), { url, reconnectCount: 0, timeout: 20000 })
  const result = await got.done
  return { result, count: got.messages.length, errors: got.errors.map((e) => `${e.code}: ${e.message}`) }
}

// 16 B is the keep-alive / tiny-token case, 150 B an OpenAI chunk: h2 charges (256 - size) of its
// small-frame budget for every frame still unread.
for (const size of [16, 150]) {
  test(`10,000 events of ${size} B, each its own DATA frame, arrive whole over HTTP/2 (post)`, async (t) => {
    const srv = await floodServer(size)
    if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
    try {
      const client = new SSEClient({ ca: srv.ca, http2: true })
      for (let run = 0; run < 2; run++) {
        const got = await postAll(client, srv.url)
        assert.deepEqual(got.errors, [])
        assert.equal(got.count, COUNT)
      }
    } finally {
      await srv.close()
    }
  })
}

test('10,000 small DATA frames arrive whole to a stream() consumer that starts reading late', async (t) => {
  const srv = await floodServer(16)
  if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
  try {
    const sse = new SSEClient({ ca: srv.ca, http2: true }).create()
    const iterable = sse.stream({ url: srv.url, reconnectCount: 0, timeout: 20000 })
    // Pacing, not an assertion: the reader fills the stream() queue and stops, and frames pile up
    // unread in h2 until its stream window is full.
    await delay(300)
    let n = 0
    for await (const msg of iterable) {
      assert.equal(msg.data.length, 8)
      n++
    }
    assert.equal(n, COUNT)
  } finally {
    await srv.close()
  }
})

test('10,000 small events arrive whole through a squid CONNECT tunnel to an HTTP/2 server', async (t) => {
  const srv = await floodServer(16)
  if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
  const squid = await startSquid()
  if (squid === null) {
    await srv.close()
    return t.skip('squid is not installed (.ci/run installs it with apt-get)')
  }
  try {
    const client = new SSEClient({ ca: srv.ca, proxy: squid.url, http2: true })
    const got = await postAll(client, srv.url)
    assert.deepEqual(got.errors, [])
    assert.equal(got.count, COUNT)
    assert.ok(srv.state.sessionsOpened >= 1, 'the tunnel reached the HTTP/2 server')
  } finally {
    await squid.stop()
    await srv.close()
  }
})

test('10,000 small events arrive whole through nginx (http2 over TLS) to a slow-reading stream()', async (t) => {
  const upstream = http.createServer(async (req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < COUNT && !res.destroyed; i++) await new Promise((r) => res.write('data: 12345678\n\n', r))
    res.end()
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const nginx = await startNginxH2(`http://127.0.0.1:${upstream.address().port}`)
  if (nginx === null) {
    upstream.close()
    return t.skip('nginx or openssl is not installed (.ci/run installs nginx with apt-get)')
  }
  try {
    const sse = new SSEClient({ ca: nginx.ca, http2: true }).create()
    const iterable = sse.stream({ url: nginx.url, reconnectCount: 0, timeout: 20000 })
    await delay(300)
    let n = 0
    for await (const msg of iterable) {
      assert.equal(msg.data, '12345678')
      n++
    }
    assert.equal(n, COUNT)
  } finally {
    await nginx.stop()
    upstream.closeAllConnections()
    upstream.close()
  }
})

// One stream() that nobody reads must not hold the others: its unread data may hold its own stream
// window, never the connection's.
for (const http2 of [false, true]) {
  test(`a stream() that is never read does not stall another request to the same origin (http2: ${http2})`, async (t) => {
    let blocked
    const wroteEnough = new Promise((resolve) => (blocked = resolve))
    const srv = await startH2Server(
      async (stream, headers) => {
        stream.respond(SSE_HEADERS)
        if (headers[':path'] === '/paused') {
          // 8 MiB of 1 KiB events, far beyond every window and the stream() queue.
          const line = `data: ${'p'.repeat(1016)}\n\n`
          for (let i = 0; i < 8192 && !stream.destroyed; i++) {
            if (!stream.write(line)) {
              blocked()
              await once(stream, 'drain')
            }
          }
          stream.end()
        } else {
          for (let i = 0; i < 200; i++) stream.write(`data: ${'o'.repeat(1016)}\n\n`)
          stream.end()
        }
      },
      { allowHTTP1: true },
    )
    if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
    try {
      const sse = new SSEClient({ ca: srv.ca, http2 }).create()
      const paused = sse.stream({ url: `${srv.base}/paused`, reconnectCount: 0 })
      await wroteEnough
      await delay(200) // pacing: lets the paused stream's data fill what it can
      const other = collect(sse, { url: `${srv.base}/other`, reconnectCount: 0, timeout: 5000 })
      const result = await other.done
      paused.abort()
      assert.deepEqual(
        other.errors.map((e) => e.code),
        [],
      )
      assert.deepEqual(result, { ok: true })
      assert.equal(other.messages.length, 200)
    } finally {
      await srv.close()
    }
  })
}

/**
 * 10 held streams against a server allowing 10 per connection, then 3 more: each of the 3 must get
 * its answer. `env` is set in process.env while the client is built (and restored after). Node's
 * default is no limit; nginx allows 128, many CDNs 100. hyper never opens a second HTTP/2
 * connection for a full one (hyperium/hyper#2197), so a request beyond the limit would wait.
 */
async function beyondTheLimit(t, { http2, allowHTTP1 = false, env = {} }) {
  const held = []
  let opened
  const allOpen = new Promise((resolve) => (opened = resolve))
  const srv = await startH2Server(
    (stream, headers) => {
      stream.respond(SSE_HEADERS)
      if (headers[':path'] === '/hold') {
        stream.write('data: holding\n\n')
        held.push(stream)
        if (held.length === 10) opened()
      } else {
        stream.end('data: extra\n\n')
      }
    },
    { allowHTTP1, settings: { maxConcurrentStreams: 10 } },
  )
  if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]))
  let client
  try {
    Object.assign(process.env, env)
    client = new SSEClient({ ca: srv.ca, http2 })
    const sse = client.create()
    const holders = []
    for (let i = 0; i < 10; i++) holders.push(collect(sse, { url: `${srv.base}/hold`, reconnectCount: 0 }))
    await allOpen
    const extra = []
    for (let i = 0; i < 3; i++) extra.push(collect(sse, { url: `${srv.base}/extra`, reconnectCount: 0, timeout: 5000 }))
    const results = await Promise.all(extra.map((g) => g.done))
    assert.deepEqual(
      extra.flatMap((g) => g.errors.map((e) => `${e.code}: ${e.message}`)),
      [],
    )
    assert.deepEqual(results, [{ ok: true }, { ok: true }, { ok: true }])
    assert.deepEqual(
      extra.map((g) => g.messages.map((m) => m.data)),
      [['extra'], ['extra'], ['extra']],
    )
    for (const h of holders) h.req.abort()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    // Its idle keep-alive sockets would hold the server's close() for the pool's 30 s.
    client?.close()
    await srv.close()
  }
}

for (const http2 of [false, true]) {
  test(`requests beyond the server's max_concurrent_streams still succeed (http2: ${http2})`, (t) =>
    beyondTheLimit(t, { http2, allowHTTP1: true }))
}

test('with HTTPS_PROXY set and NO_PROXY covering the server, requests beyond its max_concurrent_streams still succeed', (t) =>
  // The proxy variables are read when a client is built: a proxy nobody listens on, and the server
  // exempted, so every request goes direct and may use the HTTP/2 connections of their own.
  beyondTheLimit(t, { http2: true, env: { HTTPS_PROXY: 'http://127.0.0.1:9', NO_PROXY: '127.0.0.1' } }))

test('through nginx allowing 8 streams per connection, 8 held streams and 4 more all get their answer (http2: true)', async (t) => {
  const held = []
  let opened
  const allOpen = new Promise((resolve) => (opened = resolve))
  const upstream = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    if (req.url === '/hold') {
      res.write('data: holding\n\n')
      held.push(res)
      if (held.length === 8) opened()
    } else {
      res.end('data: extra\n\n')
    }
  })
  upstream.listen(0, '127.0.0.1')
  await once(upstream, 'listening')
  const nginx = await startNginxH2(`http://127.0.0.1:${upstream.address().port}`, { maxConcurrentStreams: 8 })
  if (nginx === null) {
    upstream.close()
    return t.skip('nginx or openssl is not installed (.ci/run installs nginx with apt-get)')
  }
  const client = new SSEClient({ ca: nginx.ca, http2: true })
  try {
    const sse = client.create()
    const holders = []
    for (let i = 0; i < 8; i++) holders.push(collect(sse, { url: `${nginx.base}/hold`, reconnectCount: 0 }))
    await allOpen
    const extra = []
    for (let i = 0; i < 4; i++)
      extra.push(collect(sse, { url: `${nginx.base}/extra`, reconnectCount: 0, timeout: 5000 }))
    const results = await Promise.all(extra.map((g) => g.done))
    assert.deepEqual(
      extra.flatMap((g) => g.errors.map((e) => `${e.code}: ${e.message}`)),
      [],
    )
    assert.deepEqual(results, Array(4).fill({ ok: true }))
    assert.deepEqual(
      extra.map((g) => g.messages.map((m) => m.data)),
      Array(4).fill(['extra']),
    )
    for (const h of holders)
      assert.deepEqual(
        h.messages.map((m) => m.data),
        ['holding'],
      )
    for (const h of holders) h.req.abort()
  } finally {
    client.close()
    await nginx.stop()
    upstream.closeAllConnections()
    upstream.close()
  }
})

test('http2: true negotiates HTTP/2 through ALPN; the default speaks HTTP/1.1 to the same server', async (t) => {
  const pair = selfSignedCert()
  if (pair === null) return t.skip('openssl is not installed: cannot make a certificate')
  const versions = []
  const srv = await startH2Server(
    (stream) => {
      versions.push(stream.session.alpnProtocol)
      stream.respond(SSE_HEADERS)
      stream.end('data: hi\n\n')
    },
    { allowHTTP1: true, pair },
  )
  try {
    for (const http2 of [true, false, undefined]) {
      const got = collect(new SSEClient({ ca: srv.ca, http2 }).create(), { url: srv.url })
      assert.deepEqual(await got.done, { ok: true })
      assert.deepEqual(
        got.messages.map((m) => m.data),
        ['hi'],
      )
    }
    assert.deepEqual(versions, ['h2', 'http/1.1', 'http/1.1'])
  } finally {
    await srv.close()
  }
})

test('http2 must be a boolean', () => {
  assert.throws(() => new SSEClient({ http2: 'yes' }), { code: 'INVALID_OPTIONS', message: /http2 must be a boolean/ })
})

test('a burst of requests to a new HTTP/2 origin shares one connection, and the streams that ended free their place', async (t) => {
  const srv = await startH2Server(
    (stream) => {
      stream.respond(SSE_HEADERS)
      stream.end('data: hi\n\n')
    },
    { settings: { maxConcurrentStreams: 10 } },
  )
  if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
  const client = new SSEClient({ ca: srv.ca, http2: true })
  try {
    const sse = client.create()
    // Three waves of 10 (the server's limit): each wave fits on the one connection once the
    // streams of the wave before have ended.
    for (let wave = 0; wave < 3; wave++) {
      const got = []
      for (let i = 0; i < 10; i++) got.push(collect(sse, { url: srv.url, reconnectCount: 0 }))
      assert.deepEqual(await Promise.all(got.map((g) => g.done)), Array(10).fill({ ok: true }))
      assert.deepEqual(
        got.flatMap((g) => g.messages.map((m) => m.data)),
        Array(10).fill('hi'),
      )
    }
    // One connection for the streams, and the one that learned the server's settings.
    assert.ok(srv.state.sessionsOpened <= 2, `${srv.state.sessionsOpened} connections for 3 waves of 10 streams`)
  } finally {
    client.close()
    await srv.close()
  }
})

test('at most 32 HTTP/2 connections per origin: past them a request waits for a stream on one of them', async (t) => {
  // One stream per connection: 33 held streams need 33 connections, and the cap is 32.
  const held = []
  const waiters = []
  const heldCount = (n) => new Promise((resolve) => (held.length >= n ? resolve() : waiters.push({ n, resolve })))
  const srv = await startH2Server(
    (stream) => {
      stream.respond(SSE_HEADERS)
      stream.write('data: holding\n\n')
      held.push(stream)
      for (const w of waiters.filter((w) => held.length >= w.n)) w.resolve()
    },
    { settings: { maxConcurrentStreams: 1 } },
  )
  if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
  const client = new SSEClient({ ca: srv.ca, http2: true })
  try {
    const sse = client.create()
    const got = []
    for (let i = 0; i < 33; i++) got.push(collect(sse, { url: srv.url, reconnectCount: 0, timeout: 20000 }))
    await heldCount(32)
    // The 33rd waits on a full connection; a stream that ends makes room for it there.
    got[0].req.abort()
    await heldCount(33)
    assert.equal(srv.state.sessionsOpened, 33, '32 connections for the streams and the one that read the settings')
    for (const g of got) g.req.abort()
  } finally {
    client.close()
    await srv.close()
  }
})

test('a server that speaks only HTTP/2 fails with a TLS error that says to set http2: true', async (t) => {
  const srv = await startH2Server((stream) => {
    stream.respond(SSE_HEADERS)
    stream.end('data: hi\n\n')
  })
  if (srv === null) return t.skip('openssl is not installed: cannot make a certificate')
  try {
    const got = collect(new SSEClient({ ca: srv.ca }).create(), { url: srv.url, reconnectCount: 0 })
    const result = await got.done
    assert.equal(result.ok, false)
    assert.equal(got.errors.length, 1)
    assert.equal(got.errors[0].code, 'TLS')
    assert.match(got.errors[0].message, /http2: true/)
  } finally {
    await srv.close()
  }
})
