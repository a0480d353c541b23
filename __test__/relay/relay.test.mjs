// sse.relay(res, options) on node:http: headers, exact re-encoding, downstream close -> upstream
// abort, terminal error events, heartbeats, back-pressure, Last-Event-ID resume, transform.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import net from 'node:net'
import http2 from 'node:http2'
import { EventSource } from 'eventsource'
import { SSEClient } from '../../index.mjs'
import { startServer, startHeldBack, delay } from '../helpers/server.mjs'
import { downstream, startHttp, signal } from '../helpers/relay.mjs'
import { rng, pick } from '../helpers/random.mjs'

/** A relay server in front of `upstream`: every request is `sse.relay(res, options(req))`. */
async function startRelay(sse, options) {
  const handles = []
  const srv = await startHttp((req, res) => {
    try {
      handles.push(sse.relay(res, options(req)))
    } catch (err) {
      res.statusCode = 500
      res.end(`${err.code ?? err.name}: ${err.message}`)
    }
  })
  srv.handles = handles
  return srv
}

function stack() {
  const client = new SSEClient()
  return { client, sse: client.create() }
}

test('the response gets the event-stream headers at once, before the first upstream event', async () => {
  const release = signal()
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.flushHeaders()
    await release.promise
    res.end('data: first\n\n')
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({ url: upstream.url, body: { q: 1 } }))
  try {
    const down = downstream(relay.url, { body: { q: 1 } })
    const res = await down.response
    assert.equal(down.events.length, 0)
    assert.equal(res.statusCode, 200)
    assert.equal(res.headers['content-type'], 'text/event-stream')
    assert.equal(res.headers['cache-control'], 'no-cache')
    assert.equal(res.headers['x-accel-buffering'], 'no')
    release.resolve()
    await down.until((c) => c.ended)
    assert.deepEqual(down.events, [{ data: 'first', event: 'message', id: '' }])
    assert.equal(await relay.handles[0].done, 'end')
    assert.equal(upstream.requests[0].method, 'POST')
    assert.equal(upstream.requests[0].body.toString(), '{"q":1}')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

const PIECES = [
  'a',
  'token',
  ' ',
  ':',
  'data:',
  'id: 9',
  'é',
  '日本語',
  '😀',
  '\u2028',
  '{"c":"x"}',
  '\t',
  '\0',
  '\ufeff',
]
const NAMES = ['delta', 'error', 'ünï', 'with space', 'a:b']
const IDS = ['', '1', '42', 'abc', 'ü', '😀', ' lead', 'x y']

/**
 * A random upstream stream written the way servers write them (CR, LF or CRLF line ends, with or
 * without the space, comments, unknown fields) and the events a WHATWG parser must read from it.
 */
function randomStream(r) {
  let text = ''
  const want = []
  let lastId = ''
  const n = 1 + Math.floor(r() * 12)
  for (let i = 0; i < n; i++) {
    const eol = pick(r, ['\n', '\r', '\r\n'])
    const lines = Array.from({ length: 1 + Math.floor(r() * 4) }, () => {
      let line = ''
      for (let k = Math.floor(r() * 5); k > 0; k--) line += pick(r, PIECES)
      return line
    })
    if (r() < 0.2) text += `: comment ${i}${eol}`
    const msg = { data: lines.join('\n'), event: 'message' }
    if (r() < 0.4) {
      msg.event = pick(r, NAMES)
      text += `event:${r() < 0.5 ? ' ' : ''}${msg.event}${eol}`
    }
    if (r() < 0.4) {
      lastId = pick(r, IDS)
      text += `id: ${lastId}${eol}`
    }
    if (r() < 0.1) {
      msg.retry = Math.floor(r() * 50000)
      text += `retry: ${msg.retry}${eol}`
    }
    if (r() < 0.1) text += `unknown: field${eol}`
    // One space after the colon is stripped; data starting with a space needs it written.
    for (const line of lines) text += line.startsWith(' ') || r() < 0.5 ? `data: ${line}${eol}` : `data:${line}${eol}`
    text += eol
    msg.id = lastId
    want.push(msg)
  }
  return { text, want }
}

test('property: random upstream streams come out of the relay as the same events (eventsource-parser)', async () => {
  const seed = Number(process.env.RELAY_SEED ?? 1)
  const r = rng(seed)
  let current = null
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    // Written in random pieces of bytes, so events, CRLF pairs and UTF-8 sequences are split across reads.
    const bytes = Buffer.from(current.text)
    let at = 0
    while (at < bytes.length) {
      const next = Math.min(bytes.length, at + 1 + Math.floor(r() * 40))
      res.write(bytes.subarray(at, next))
      at = next
      if (r() < 0.1) await delay(1)
    }
    res.end()
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({ url: upstream.url, heartbeat: false }))
  try {
    for (let round = 0; round < 60; round++) {
      current = randomStream(r)
      const down = downstream(relay.url)
      await down.until((c) => c.ended)
      assert.deepEqual(down.events, current.want, `seed ${seed} round ${round}: ${JSON.stringify(current.text)}`)
    }
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('the downstream leaving aborts the upstream in the same turn, and the upstream sees its socket close', async () => {
  const upstreamClosed = signal()
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', () => upstreamClosed.resolve(res.writableFinished))
    for (let i = 0; !res.destroyed && i < 10_000; i++) {
      res.write(`data: ${i}\n\n`)
      await delay(5)
    }
    res.end()
  })
  const { client, sse } = stack()
  let readyStateAtClose = null
  const relay = await startHttp((req, res) => {
    const handle = sse.relay(res, { url: upstream.url })
    relay.handle = handle
    // Registered after the relay's own listener, so it runs right after it in the same emit.
    res.on('close', () => {
      readyStateAtClose = handle.request.readyState
    })
  })
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.events.length >= 3)
    down.close()
    assert.equal(await relay.handle.done, 'closed')
    assert.equal(readyStateAtClose, 2, 'the upstream request was still open when the response closed')
    assert.equal(await upstreamClosed.promise, false, 'the upstream response ran to its end')
    await upstream.idle()
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('a response that is already closed when relay() is called aborts the upstream at once', async () => {
  const upstream = await startServer(async (req, res) => sse_(res))
  const sse_ = (res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: x\n\n')
  const { client, sse } = stack()
  const relay = await startHttp((req, res) => {
    res.destroy()
    relay.handle = sse.relay(res, { url: upstream.url })
  })
  try {
    const down = downstream(relay.url)
    await down.response.catch(() => {})
    assert.equal(await relay.handle.done, 'closed')
    assert.equal(relay.handle.request.readyState, 2)
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('a mid-stream upstream failure sends `event: error` with code and message, then ends the response', async () => {
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: one\n\ndata: two\n\n')
    await delay(20)
    res.socket.destroy()
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({ url: upstream.url, reconnectCount: 0 }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.deepEqual(
      down.events.map((e) => e.data),
      ['one', 'two', down.events[2]?.data],
    )
    const last = down.events[2]
    assert.equal(last.event, 'error')
    const payload = JSON.parse(last.data)
    assert.deepEqual(Object.keys(payload), ['code', 'message'])
    assert.equal(payload.code, 'NETWORK')
    assert.equal(await relay.handles[0].done, 'error')
    assert.equal(relay.handles[0].error.code, 'NETWORK')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('the terminal error event carries no header values or secrets, and its name and payload can be set', async () => {
  const upstream = await startServer(async (req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"error":"bad key"}')
  })
  const { client, sse } = stack()
  const secret = 'sk-live-0123456789abcdef'
  let custom = false
  const relay = await startRelay(sse, () => ({
    url: upstream.url,
    headers: { authorization: `Bearer ${secret}`, 'x-api-key': secret },
    errorEvent: custom ? (err) => ({ event: 'failed', data: `status ${err.status}` }) : undefined,
  }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.equal(down.events.length, 1)
    assert.equal(down.events[0].event, 'error')
    assert.equal(JSON.parse(down.events[0].data).code, 'HTTP_STATUS')
    assert.match(JSON.parse(down.events[0].data).message, /401/)
    assert.ok(!down.text.includes(secret), 'a secret reached the browser')
    assert.ok(!down.text.toLowerCase().includes('authorization'), 'a header name reached the browser')

    custom = true
    const again = downstream(relay.url)
    await again.until((c) => c.ended)
    assert.deepEqual(again.events, [{ data: 'status 401', event: 'failed', id: '' }])
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('errorEvent: false ends the response with no terminal event; a string renames it', async () => {
  const upstream = await startServer(async (req, res) => {
    res.writeHead(500)
    res.end('down')
  })
  const { client, sse } = stack()
  let errorEvent = false
  const relay = await startRelay(sse, () => ({ url: upstream.url, errorEvent }))
  try {
    const quiet = downstream(relay.url)
    await quiet.until((c) => c.ended)
    assert.equal(quiet.text, '')
    errorEvent = 'upstream-failed'
    const named = downstream(relay.url)
    await named.until((c) => c.ended)
    assert.equal(named.events[0].event, 'upstream-failed')
    assert.equal(JSON.parse(named.events[0].data).code, 'HTTP_STATUS')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('heartbeat comments go out every N ms while the upstream is silent, between events only', async () => {
  const release = signal()
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: before\n\n')
    await release.promise
    res.end('data: after\n\n')
  })
  const { client, sse } = stack()
  const INTERVAL = 60
  const relay = await startRelay(sse, () => ({ url: upstream.url, heartbeat: INTERVAL }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.events.length === 1)
    const eventAt = down.chunks.at(-1).at
    await down.until((c) => c.comments.length >= 3)
    release.resolve()
    await down.until((c) => c.ended)
    const [first, second, third] = down.comments
    // Timers may fire late on a busy machine, never early (a few ms of clock granularity aside).
    assert.ok(first.at - eventAt >= INTERVAL - 10, `first heartbeat ${first.at - eventAt} ms after the event`)
    assert.ok(second.at - first.at >= INTERVAL - 10, `heartbeats ${second.at - first.at} ms apart`)
    assert.ok(third.at - second.at >= INTERVAL - 10, `heartbeats ${third.at - second.at} ms apart`)
    assert.deepEqual(
      down.events.map((e) => e.data),
      ['before', 'after'],
    )
    // Each comment sits on its own block: the text before it ends with a blank line.
    for (const c of down.comments) assert.equal(down.text.slice(c.offset - 2, c.offset), '\n\n')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('heartbeat: false sends no comment during a silence longer than the interval would be', async () => {
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: before\n\n')
    // Server pacing, not an assertion: a silence of 150 ms.
    await delay(150)
    res.end('data: after\n\n')
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({ url: upstream.url, heartbeat: false }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.equal(down.text, 'data: before\n\ndata: after\n\n')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('a transform maps and drops events; doneData ends the response; endEvent follows a clean end', async () => {
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const chunks = ['Hel', '', 'lo', null, '!']
    for (const c of chunks)
      res.write(`data: ${JSON.stringify({ choices: [{ delta: c === null ? {} : { content: c } }] })}\n\n`)
    res.write('data: [DONE]\n\n')
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({
    url: upstream.url,
    doneData: '[DONE]',
    endEvent: { event: 'end', data: '{}' },
    transform(msg) {
      const token = JSON.parse(msg.data).choices[0]?.delta?.content
      return token ? { data: JSON.stringify({ token }) } : null
    },
  }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.deepEqual(
      down.events.map((e) => [e.event, e.data]),
      [
        ['message', '{"token":"Hel"}'],
        ['message', '{"token":"lo"}'],
        ['message', '{"token":"!"}'],
        ['end', '{}'],
      ],
    )
    // How it ended: doneData.
    assert.equal(await relay.handles[0].done, 'done')
    assert.equal(await relay.handles[0].request.done, 'done')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('a transform that throws aborts the upstream and sends the terminal error event', async () => {
  const upstreamClosed = signal()
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', () => upstreamClosed.resolve())
    res.write('data: ok\n\ndata: not json\n\n')
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({
    url: upstream.url,
    transform: (msg) => ({ data: String(JSON.parse(msg.data === 'ok' ? '1' : msg.data)) }),
  }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.equal(down.events[0].data, '1')
    assert.equal(down.events[1].event, 'error')
    assert.equal(JSON.parse(down.events[1].data).code, 'ERROR')
    assert.match(JSON.parse(down.events[1].data).message, /JSON/)
    assert.equal(await relay.handles[0].done, 'error')
    await upstreamClosed.promise
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('bad request options throw from relay() before any header is sent', async () => {
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({ url: 'ftp://nowhere/' }))
  try {
    const down = downstream(relay.url)
    const res = await down.response
    await down.until((c) => c.ended)
    assert.equal(res.statusCode, 500)
    assert.match(down.text, /^INVALID_URL: /)
  } finally {
    client.clear()
    await relay.close()
  }
})

test('ids are relayed and the browser Last-Event-ID is forwarded, so an EventSource resumes through the relay', async () => {
  // Upstream: a GET event stream of ids 1..6 that hangs up after every third event.
  const TOTAL = 6
  const upstream = await startServer(async (req, res) => {
    const from = Number(req.headers['last-event-id'] ?? 0)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let text = from === 0 ? 'retry: 10\n\n' : ''
    for (let i = from + 1; i <= Math.min(TOTAL, from + 3); i++) text += `id: ${i}\ndata: event ${i}\n\n`
    if (from + 3 >= TOTAL) text += 'event: end\ndata: bye\n\n'
    res.end(text)
  })
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({ url: upstream.url, method: 'GET', forwardLastEventId: true }))
  const es = new EventSource(relay.url)
  try {
    const seen = []
    const ended = signal()
    es.onmessage = (e) => seen.push([e.lastEventId, e.data])
    es.addEventListener('end', () => {
      es.close()
      ended.resolve()
    })
    es.onerror = () => {}
    await ended.promise
    assert.deepEqual(seen, [
      ['1', 'event 1'],
      ['2', 'event 2'],
      ['3', 'event 3'],
      ['4', 'event 4'],
      ['5', 'event 5'],
      ['6', 'event 6'],
    ])
    assert.deepEqual(
      upstream.requests.map((r) => [r.method, r.headers['last-event-id']]),
      [
        ['GET', undefined],
        ['GET', '3'],
      ],
    )
  } finally {
    es.close()
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test(
  'back-pressure: a downstream that does not read blocks the upstream writes, and memory stays bounded',
  { timeout: 30_000 },
  async () => {
    // The upstream writes 4 KiB events as fast as its socket takes them, up to 256 MiB. What it gets
    // out while the downstream reads nothing is bounded by the socket buffers on both connections
    // (Linux autotunes loopback buffers up to tcp_rmem/tcp_wmem max) plus the relay's own queues.
    const total = 64 * 1024 * 4096
    let progressed = null
    // Resolved once one wait for 'drain' has lasted a whole second: the writes are held back.
    // Without back-pressure the relay buffers in memory and the upstream keeps flowing (with stalls
    // of a few hundred ms): then this never resolves and the test times out.
    const upstream = await startHeldBack({
      heldMs: 1000,
      onWritten(stats) {
        if (progressed !== null && stats.written >= progressed.at) progressed.resolve()
      },
    })
    const { stats, blocked } = upstream
    const { client, sse } = stack()
    const relay = await startRelay(sse, () => ({ url: upstream.url, heartbeat: false }))
    const rssBefore = process.memoryUsage().rss
    // A raw downstream socket that sends its request and then does not read.
    const socket = net.connect(Number(new URL(relay.url).port), '127.0.0.1')
    try {
      await once(socket, 'connect')
      socket.pause()
      socket.write(`POST / HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n`)
      await blocked
      const rssGrowth = process.memoryUsage().rss - rssBefore
      const mib = (n) => (n / 2 ** 20).toFixed(1)
      console.log(
        `# back-pressure: upstream held at ${mib(stats.written)} of ${mib(total)} MiB; relay RSS +${mib(rssGrowth)} MiB`,
      )
      assert.equal(stats.finished, false, 'the upstream wrote everything: nothing held it back')
      assert.ok(
        stats.written < 96 * 2 ** 20,
        `the upstream got ${mib(stats.written)} MiB out while the downstream read none`,
      )
      assert.ok(rssGrowth < 64 * 2 ** 20, `the relay process grew by ${mib(rssGrowth)} MiB`)
      // Reading again lets the upstream go on.
      progressed = signal()
      progressed.at = stats.written + 16 * 2 ** 20
      socket.on('data', () => {})
      socket.resume()
      await progressed.promise
    } finally {
      socket.destroy()
      client.clear()
      await relay.close()
      await upstream.close()
    }
  },
)

test('the signal option aborts the upstream and ends the response; responseHeaders are added', async () => {
  const upstreamClosed = signal()
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', () => upstreamClosed.resolve(res.writableFinished))
    res.write('data: first\n\n')
  })
  const { client, sse } = stack()
  const controller = new AbortController()
  const relay = await startRelay(sse, () => ({
    url: upstream.url,
    signal: controller.signal,
    responseHeaders: { 'access-control-allow-origin': '*', 'content-type': 'text/plain' },
  }))
  try {
    const down = downstream(relay.url)
    const res = await down.response
    assert.equal(res.headers['access-control-allow-origin'], '*')
    assert.equal(
      res.headers['content-type'],
      'text/event-stream',
      'responseHeaders must not override the event-stream ones',
    )
    await down.until((c) => c.events.length === 1)
    controller.abort()
    await down.until((c) => c.ended)
    assert.equal(await upstreamClosed.promise, false)
    assert.ok(['abort', 'end'].includes(await relay.handles[0].done))
    assert.deepEqual(down.events, [{ data: 'first', event: 'message', id: '' }])
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('relay() works on an HTTP/2 compatibility response: events, headers, and the stream closing aborts the upstream', async () => {
  const upstreamClosed = signal()
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', () => upstreamClosed.resolve(res.writableFinished))
    for (let i = 0; !res.destroyed && i < 10_000; i++) {
      res.write(`id: ${i}\ndata: line ${i}\ndata: second\n\n`)
      await delay(5)
    }
  })
  const { client, sse } = stack()
  const server = http2.createServer((req, res) => sse.relay(res, { url: upstream.url }))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const session = http2.connect(`http://127.0.0.1:${server.address().port}`)
  try {
    const stream = session.request({ ':method': 'POST', ':path': '/', accept: 'text/event-stream' })
    stream.end()
    const [headers] = await once(stream, 'response')
    assert.equal(headers[':status'], 200)
    assert.equal(headers['content-type'], 'text/event-stream')
    assert.equal(headers['x-accel-buffering'], 'no')
    stream.setEncoding('utf8')
    let text = ''
    await new Promise((resolve) => {
      stream.on('data', (chunk) => {
        text += chunk
        if (text.split('\n\n').length > 3) resolve()
      })
    })
    assert.ok(text.startsWith('id: 0\ndata: line 0\ndata: second\n\nid: 1\ndata: line 1\n'), JSON.stringify(text))
    stream.close(http2.constants.NGHTTP2_CANCEL)
    assert.equal(await upstreamClosed.promise, false)
  } finally {
    session.destroy()
    client.clear()
    server.close()
    await upstream.close()
  }
})

test('bad relay options throw before anything is sent or left running: endEvent, responseHeaders, transform', async () => {
  const upstream = await startServer(async (req, res) =>
    res.writeHead(200, { 'content-type': 'text/event-stream' }).end('data: x\n\n'),
  )
  const { client, sse } = stack()
  const cases = [
    [{ endEvent: { data: 'x', id: 'a\nb' } }, /id must not contain/],
    [{ responseHeaders: { 'bad header': 'x' } }, /Header name must be a valid HTTP token/],
    [{ transform: 'nope' }, /transform must be a function/],
  ]
  let current = 0
  const relay = await startRelay(sse, () => ({ url: upstream.url, ...cases[current][0] }))
  try {
    for (; current < cases.length; current++) {
      const down = downstream(relay.url)
      const res = await down.response
      await down.until((c) => c.ended)
      assert.equal(res.statusCode, 500)
      assert.match(down.text, cases[current][1])
    }
    assert.equal(relay.handles.length, 0)
    // Nothing was left running: every upstream request that was started has ended.
    await upstream.idle()
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})

test('an errorEvent function that throws ends the response without a terminal event', async () => {
  const upstream = await startServer(async (req, res) => res.writeHead(500).end('down'))
  const { client, sse } = stack()
  const relay = await startRelay(sse, () => ({
    url: upstream.url,
    errorEvent() {
      throw new Error('oops')
    },
  }))
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.equal(down.text, '')
    assert.equal(await relay.handles[0].done, 'error')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})
