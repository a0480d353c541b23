// stream.toReadableStream(), toReadableStream({ format: 'sse' }), toResponse() and toNodeReadable():
// what they yield, that cancel/destroy aborts the upstream, errors, and that they only pull on demand.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, startHeldBack, delay } from '../helpers/server.mjs'
import { signal } from '../helpers/relay.mjs'
import { parseEventStream } from '../helpers/event-stream.mjs'

const STREAM = 'data: a\n\nevent: e\nid: 1\ndata: b\r\ndata: c\n\ndata: d\n\n'
const MESSAGES = [
  { data: 'a', event: 'message', id: '' },
  { data: 'b\nc', event: 'e', id: '1' },
  { data: 'd', event: 'message', id: '1' },
]

/** An upstream that streams forever (until the client leaves) and reports its response closing. */
async function endless() {
  const closed = signal()
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.on('close', () => closed.resolve(res.writableFinished))
    for (let i = 0; !res.destroyed && i < 10_000; i++) {
      res.write(`data: ${i}\n\n`)
      await delay(5)
    }
    res.end()
  })
  srv.closed = closed.promise
  return srv
}

test('toReadableStream() is a web stream of the messages', async () => {
  const srv = await startServer((req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAM))
  try {
    const seen = []
    for await (const msg of new SSEClient().create().stream({ url: srv.url }).toReadableStream()) seen.push(msg)
    assert.deepEqual(seen, MESSAGES)
  } finally {
    await srv.close()
  }
})

test("toReadableStream({ format: 'sse' }) is the bytes of an event stream that parses back to the same events", async () => {
  const srv = await startServer((req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAM))
  try {
    const body = new SSEClient().create().stream({ url: srv.url }).toReadableStream({ format: 'sse' })
    let text = ''
    const decoder = new TextDecoder()
    for await (const chunk of body) {
      assert.ok(chunk instanceof Uint8Array)
      text += decoder.decode(chunk, { stream: true })
    }
    assert.equal(text, 'data: a\n\nevent: e\nid: 1\ndata: b\ndata: c\n\ndata: d\n\n')
    assert.deepEqual(parseEventStream(text), MESSAGES)
  } finally {
    await srv.close()
  }
})

test('cancelling the web stream aborts the upstream request', async () => {
  const srv = await endless()
  try {
    const stream = new SSEClient().create().stream({ url: srv.url })
    const reader = stream.toReadableStream({ format: 'sse' }).getReader()
    await reader.read()
    await reader.cancel()
    assert.equal(await srv.closed, false, 'the upstream response ran to its end')
    assert.equal(stream.request.readyState, 2)
    await srv.idle()
  } finally {
    await srv.close()
  }
})

test('toResponse() is a 200 Response with the event-stream headers; init adds headers and may set the status', async () => {
  const srv = await startServer((req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAM))
  try {
    const sse = new SSEClient().create()
    const res = sse.stream({ url: srv.url }).toResponse()
    assert.ok(res instanceof Response)
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/event-stream')
    assert.equal(res.headers.get('cache-control'), 'no-cache')
    assert.equal(res.headers.get('x-accel-buffering'), 'no')
    assert.deepEqual(parseEventStream(await res.text()), MESSAGES)

    const custom = sse
      .stream({ url: srv.url })
      .toResponse({ status: 201, headers: { 'x-trace': 't1', 'cache-control': 'no-store' } })
    assert.equal(custom.status, 201)
    assert.equal(custom.headers.get('x-trace'), 't1')
    assert.equal(custom.headers.get('cache-control'), 'no-store')
    await custom.body.cancel()
  } finally {
    await srv.close()
  }
})

test("a final upstream error ends the 'sse' byte stream with `event: error`; with errorEvent: false it errors it", async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(503, { 'retry-after': '0' })
    res.end('overloaded')
  })
  try {
    const sse = new SSEClient().create()
    const text = await sse.stream({ url: srv.url, reconnectCount: 0 }).toResponse().text()
    const [last] = parseEventStream(text)
    assert.equal(last.event, 'error')
    assert.equal(JSON.parse(last.data).code, 'HTTP_STATUS')

    const body = sse.stream({ url: srv.url, reconnectCount: 0 }).toReadableStream({ format: 'sse', errorEvent: false })
    await assert.rejects(new Response(body).text(), { code: 'HTTP_STATUS', status: 503 })
    await assert.rejects(
      (async () => {
        for await (const msg of sse.stream({ url: srv.url, reconnectCount: 0 }).toReadableStream()) void msg
      })(),
      { code: 'HTTP_STATUS' },
    )
  } finally {
    await srv.close()
  }
})

test("an errorEvent function that throws ends the 'sse' byte stream without a terminal event, as relay() does", async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(503, { 'retry-after': '0' })
    res.end('overloaded')
  })
  try {
    const sse = new SSEClient().create()
    const errorEvent = () => {
      throw new Error('no terminal event today')
    }
    const response = sse.stream({ url: srv.url, reconnectCount: 0 }).toResponse({}, { errorEvent })
    assert.equal(await response.text(), '')
  } finally {
    await srv.close()
  }
})

test("the 'sse' byte stream sends heartbeat comments while the upstream is silent, and a transform maps events", async () => {
  const release = signal()
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: {"t":"x"}\n\n')
    await release.promise
    res.end('data: {"t":"y"}\n\ndata: {}\n\n')
  })
  try {
    const body = new SSEClient()
      .create()
      .stream({ url: srv.url })
      .toReadableStream({
        format: 'sse',
        heartbeat: 30,
        transform: (m) => (JSON.parse(m.data).t ? { data: JSON.parse(m.data).t } : null),
      })
    const decoder = new TextDecoder()
    let text = ''
    for await (const chunk of body) {
      text += decoder.decode(chunk)
      if (text === 'data: x\n\n:\n\n:\n\n') release.resolve()
    }
    assert.equal(text, 'data: x\n\n:\n\n:\n\ndata: y\n\n')
  } finally {
    await srv.close()
  }
})

test('toNodeReadable() is an object-mode Readable of the messages; destroy() aborts; a failure destroys it', async () => {
  const srv = await startServer((req, res) => res.writeHead(200, { 'content-type': 'text/event-stream' }).end(STREAM))
  const live = await endless()
  const failing = await startServer((req, res) => res.writeHead(404).end('no'))
  try {
    const sse = new SSEClient().create()
    const readable = sse.stream({ url: srv.url }).toNodeReadable()
    assert.equal(readable.readableObjectMode, true)
    assert.deepEqual(await readable.toArray(), MESSAGES)

    const stream = sse.stream({ url: live.url })
    const endlessReadable = stream.toNodeReadable()
    for await (const msg of endlessReadable) {
      assert.equal(msg.data, '0')
      break // destroys the Readable
    }
    assert.equal(await live.closed, false)
    assert.equal(stream.request.readyState, 2)

    await assert.rejects(sse.stream({ url: failing.url }).toNodeReadable().toArray(), {
      code: 'HTTP_STATUS',
      status: 404,
    })
  } finally {
    await srv.close()
    await live.close()
    await failing.close()
  }
})

test('a web stream nobody reads holds the upstream back (pull-based: no read-ahead into memory)', async () => {
  // Resolved once one wait for 'drain' has lasted half a second: the writes are held back.
  const srv = await startHeldBack({ heldMs: 500 })
  const { stats, blocked } = srv
  try {
    const stream = new SSEClient().create().stream({ url: srv.url })
    const body = stream.toReadableStream({ format: 'sse' })
    await blocked
    assert.equal(stats.finished, false)
    assert.ok(stats.written < 64 * 2 ** 20, `the upstream got ${(stats.written / 2 ** 20).toFixed(1)} MiB out`)
    await body.cancel()
  } finally {
    await srv.close()
  }
})

test("a transform that throws ends the 'sse' byte stream with the terminal event and aborts the upstream", async () => {
  const srv = await endless()
  try {
    const stream = new SSEClient().create().stream({ url: srv.url })
    const body = stream.toReadableStream({
      format: 'sse',
      transform(msg) {
        if (msg.data === '2') throw new Error('bad chunk')
        return msg
      },
    })
    const events = parseEventStream(await new Response(body).text())
    assert.deepEqual(
      events.map((e) => e.data),
      ['0', '1', JSON.stringify({ code: 'ERROR', message: 'bad chunk' })],
    )
    assert.equal(events[2].event, 'error')
    assert.equal(await srv.closed, false)
  } finally {
    await srv.close()
  }
})
