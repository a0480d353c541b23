// Issue 12: native-sse/fetch-event-source behaves as @microsoft/fetch-event-source 2.x (its README
// and src/fetch.ts) against real servers on 127.0.0.1, in plain Node with no window or document:
// the Response-like onopen (sync, async, throwing), messages, onclose, the retry loop driven by
// onerror's return value, stop-by-throw, Last-Event-ID on retries, and abort through the signal.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { fetchEventSource, EventStreamContentType } from 'native-sse/fetch-event-source'
import { runModule } from '../helpers/child.mjs'
import { startServer, startRawServer, sse, SSE_HEAD } from '../helpers/server.mjs'
import { dropAfter } from '../helpers/event-stream.mjs'

class RetriableError extends Error {}

test('runs without window or document; ESM and CommonJS give the same function', () => {
  assert.equal(globalThis.window, undefined)
  assert.equal(globalThis.document, undefined)
  const cjs = createRequire(import.meta.url)('native-sse/fetch-event-source')
  assert.equal(cjs.fetchEventSource, fetchEventSource)
  assert.equal(EventStreamContentType, 'text/event-stream')
})

test('a POST with headers and body: onopen gets a Response, onmessage { id, event, data, retry }, then onclose and the promise resolves', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'retry: 2500\nid: 1\ndata: hello\n\nevent: notice\ndata: named\ndata: two lines\n\n', {
      'x-extra': 'yes',
    }),
  )
  try {
    const calls = []
    const result = await fetchEventSource(srv.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' },
      body: JSON.stringify({ foo: 'bar' }),
      openWhenHidden: true,
      onopen(response) {
        calls.push('open')
        assert.ok(response instanceof Response)
        assert.equal(response.ok, true)
        assert.equal(response.status, 200)
        assert.ok(response.headers instanceof Headers)
        assert.equal(response.headers.get('content-type'), EventStreamContentType)
        assert.equal(response.headers.get('X-Extra'), 'yes')
        assert.equal(response.url, srv.url)
      },
      onmessage(ev) {
        calls.push(ev)
      },
      onclose() {
        calls.push('close')
      },
      onerror(err) {
        calls.push(['error', err])
      },
    })
    assert.equal(result, undefined)
    assert.deepEqual(calls, [
      'open',
      { id: '1', event: '', data: 'hello', retry: 2500 },
      { id: '1', event: 'notice', data: 'named\ntwo lines', retry: undefined },
      'close',
    ])
    const [r] = srv.requests
    assert.equal(r.method, 'POST')
    assert.equal(r.headers['content-type'], 'application/json')
    assert.equal(r.headers.authorization, 'Bearer t')
    assert.equal(r.headers.accept, 'text/event-stream')
    assert.equal(r.body.toString(), '{"foo":"bar"}')
    assert.equal(srv.requests.length, 1, 'a clean end is not retried')
  } finally {
    await srv.close()
  }
})

test('an async onopen holds the messages back until it resolves', async () => {
  let sent
  const allSent = new Promise((resolve) => (sent = resolve))
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end('data: 1\n\ndata: 2\n\n', sent)
  })
  try {
    const calls = []
    await fetchEventSource(srv.url, {
      async onopen() {
        calls.push('open started')
        // Everything, including the end of the response, has been sent before onopen finishes.
        await allSent
        await new Promise((resolve) => setImmediate(resolve))
        calls.push('open finished')
      },
      onmessage: (ev) => calls.push(ev.data),
      onclose: () => calls.push('close'),
    })
    assert.deepEqual(calls, ['open started', 'open finished', '1', '2', 'close'])
  } finally {
    await srv.close()
  }
})

test("the README's error handling: a 4xx seen by onopen throws a FatalError, onerror rethrows it, the promise rejects with it, no retry", async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(401, { 'content-type': 'application/json' })
    res.end('{"error":"no token"}')
  })
  try {
    const seen = []
    const lines = await runModule(
      `import { fetchEventSource } from 'native-sse/fetch-event-source'
       class FatalError extends Error {}
       try {
         await fetchEventSource(process.argv[1], {
           async onopen(response) {
             console.log('open', response.ok, response.status, await response.text())
             if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new FatalError('fatal ' + response.status)
           },
           onerror(err) {
             console.log('onerror', err instanceof FatalError, err.message)
             if (err instanceof FatalError) throw err
           },
         })
         console.log('resolved')
       } catch (err) {
         console.log('rejected', err instanceof FatalError, err.message)
       }`,
      [srv.url],
    )
    seen.push(...lines.out.trim().split('\n'))
    assert.equal(lines.signal, null, 'the child had to be killed: something kept it alive')
    assert.deepEqual(seen, ['open false 401 {"error":"no token"}', 'onerror true fatal 401', 'rejected true fatal 401'])
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('onopen throwing a RetriableError: onerror sees it, returning nothing retries, the next attempt streams', async () => {
  const srv = await startServer((req, res) => {
    if (srv.requests.length === 1) {
      res.writeHead(503, { 'content-type': 'text/html' })
      res.end('<h1>busy</h1>')
    } else {
      sse(res, 'data: ok\n\n')
    }
  })
  try {
    const calls = []
    await fetchEventSource(srv.url, {
      onopen(response) {
        calls.push(['open', response.status])
        if (!response.ok) throw new RetriableError(`status ${response.status}`)
      },
      onmessage: (ev) => calls.push(['message', ev.data]),
      onerror(err) {
        calls.push(['error', err instanceof RetriableError, err.message])
        return 10
      },
    })
    assert.deepEqual(calls, [
      ['open', 503],
      ['error', true, 'status 503'],
      ['open', 200],
      ['message', 'ok'],
    ])
  } finally {
    await srv.close()
  }
})

test('without onopen: a wrong content-type fails the attempt with the package message; an HTTP error reaches onerror as an SseError', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/plain') {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('data: no\n\n')
    } else {
      res.writeHead(500)
      res.end('oops')
    }
  })
  try {
    const plain = await fetchEventSource(`${srv.base}/plain`, {
      onmessage: () => assert.fail('no message from a text/plain body'),
      onerror(err) {
        throw err
      },
    }).catch((err) => err)
    assert.equal(plain.message, 'Expected content-type to be text/event-stream, Actual: text/plain')
    const status = await fetchEventSource(`${srv.base}/error`, {
      onerror(err) {
        throw err
      },
    }).catch((err) => err)
    assert.equal(status.code, 'HTTP_STATUS')
    assert.equal(status.status, 500)
    assert.equal(status.body, 'oops')
  } finally {
    await srv.close()
  }
})

test('an onopen that lets an error status through reads the error body as a stream: no events, onclose, resolved', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' })
    res.end('oops')
  })
  try {
    const calls = []
    await fetchEventSource(srv.url, {
      onopen: (response) => calls.push(['open', response.status]),
      onmessage: () => calls.push('message'),
      onclose: () => calls.push('close'),
      onerror: (err) => calls.push(['error', err]),
    })
    assert.deepEqual(calls, [['open', 500], 'close'])
  } finally {
    await srv.close()
  }
})

test('onerror returning a number retries after that many ms; returning nothing uses the retry the server sent', async () => {
  const times = []
  const srv = await startRawServer((socket) => {
    times.push(performance.now())
    if (times.length === 1) dropAfter(socket, 'retry: 250\ndata: a\n\n')
    else if (times.length === 2) dropAfter(socket, 'data: b\n\n')
    else socket.end(`${SSE_HEAD}data: c\n\n`)
  })
  try {
    const data = []
    const errors = []
    await fetchEventSource(srv.url, {
      onmessage: (ev) => data.push(ev.data),
      onerror(err) {
        errors.push(err.code)
        // First failure: the server's retry (250 ms); second: 120 ms.
        return errors.length === 1 ? undefined : 120
      },
    })
    assert.deepEqual(data, ['a', 'b', 'c'])
    assert.deepEqual(errors, ['NETWORK', 'NETWORK'])
    const first = times[1] - times[0]
    const second = times[2] - times[1]
    assert.ok(first >= 240, `the first retry came after ${first} ms, the server's retry was 250`)
    assert.ok(second >= 110 && second < 240, `the second retry came after ${second} ms, onerror returned 120`)
  } finally {
    await srv.close()
  }
})

test('a retry after a dropped connection sends Last-Event-ID: the last id the server sent', async () => {
  const heads = []
  const srv = await startRawServer((socket, head) => {
    heads.push(head)
    if (heads.length === 1) dropAfter(socket, 'id: 7\ndata: a\n\ndata: no id\n\n')
    else socket.end(`${SSE_HEAD}data: b\n\n`)
  })
  try {
    const events = []
    await fetchEventSource(srv.url, { onmessage: (ev) => events.push([ev.id, ev.data]), onerror: () => 0 })
    assert.doesNotMatch(heads[0], /last-event-id/i)
    assert.match(heads[1], /^last-event-id: 7\r$/im)
    assert.deepEqual(events.at(-1), ['', 'b'])
  } finally {
    await srv.close()
  }
})

test('an empty id field stops Last-Event-ID from being sent', async () => {
  const srv = await startServer((req, res) => {
    if (srv.requests.length === 1) sse(res, 'id: 3\ndata: a\n\nid\ndata: b\n\n')
    else sse(res, 'data: c\n\n')
  })
  try {
    let closes = 0
    await fetchEventSource(srv.url, {
      onclose() {
        // The README's "if the server closes the connection unexpectedly, retry".
        if (++closes === 1) throw new RetriableError('closed')
      },
      onerror: () => 0,
    })
    assert.equal(srv.requests[1].headers['last-event-id'], undefined)
  } finally {
    await srv.close()
  }
})

test('onmessage throwing fails the attempt: no more messages from it, onerror gets the error, the retry resumes with Last-Event-ID', async () => {
  const srv = await startServer((req, res) => {
    if (srv.requests.length === 1)
      sse(res, 'id: 1\ndata: ok\n\nid: 2\nevent: FatalError\ndata: bad\n\nid: 3\ndata: skipped\n\n')
    else sse(res, 'id: 4\ndata: resumed\n\n')
  })
  try {
    const calls = []
    await fetchEventSource(srv.url, {
      onmessage(ev) {
        calls.push(ev.data)
        if (ev.event === 'FatalError' && calls.length < 3) throw new RetriableError(ev.data)
      },
      onclose: () => calls.push('close'),
      onerror(err) {
        calls.push(['error', err.message])
        return 0
      },
    })
    assert.deepEqual(calls, ['ok', 'bad', ['error', 'bad'], 'resumed', 'close'])
    assert.equal(srv.requests[1].headers['last-event-id'], '2')
  } finally {
    await srv.close()
  }
})

test('onclose throwing retries; onerror throwing then stops: the promise rejects with what it threw and nothing more runs', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    const { code, signal, out } = await runModule(
      `import { fetchEventSource } from 'native-sse/fetch-event-source'
       let n = 0
       try {
         await fetchEventSource(process.argv[1], {
           onmessage: (ev) => console.log('message', ev.data),
           onclose() { console.log('close'); throw new Error('closed ' + ++n) },
           onerror(err) {
             console.log('onerror', err.message)
             if (n === 2) throw new Error('stop')
             return 0
           },
         })
       } catch (err) {
         console.log('rejected', err.message)
       }`,
      [srv.url],
    )
    assert.equal(signal, null, 'the child had to be killed: something kept it alive')
    assert.equal(code, 0, out)
    assert.deepEqual(out.trim().split('\n'), [
      'message x',
      'close',
      'onerror closed 1',
      'message x',
      'close',
      'onerror closed 2',
      'rejected stop',
    ])
    assert.equal(srv.requests.length, 2)
  } finally {
    await srv.close()
  }
})

test('aborting the signal mid-stream resolves the promise, with no onclose or onerror', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: first\n\n')
  })
  try {
    const ctrl = new AbortController()
    const calls = []
    await fetchEventSource(srv.url, {
      signal: ctrl.signal,
      onmessage(ev) {
        calls.push(ev.data)
        ctrl.abort()
      },
      onclose: () => calls.push('close'),
      onerror: (err) => calls.push(['error', err]),
    })
    assert.deepEqual(calls, ['first'])
    await srv.idle()
  } finally {
    await srv.close()
  }
})

test('aborting the signal during the wait before a retry resolves the promise, and no retry is made', async () => {
  const srv = await startRawServer((socket) => dropAfter(socket, 'data: a\n\n'))
  try {
    const { code, signal, out } = await runModule(
      `import { fetchEventSource } from 'native-sse/fetch-event-source'
       const ctrl = new AbortController()
       await fetchEventSource(process.argv[1], {
         signal: ctrl.signal,
         onmessage: (ev) => console.log('message', ev.data),
         onerror(err) {
           console.log('onerror', err.code)
           setImmediate(() => ctrl.abort())
           return 60_000
         },
       })
       console.log('resolved')`,
      [srv.url],
    )
    assert.equal(signal, null, 'the child had to be killed: the retry timer kept it alive')
    assert.equal(code, 0, out)
    assert.deepEqual(out.trim().split('\n'), ['message a', 'onerror NETWORK', 'resolved'])
    assert.equal(srv.connections, 1)
  } finally {
    await srv.close()
  }
})

test('an already aborted signal resolves at once and sends nothing', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    await fetchEventSource(srv.url, { signal: AbortSignal.abort(), onmessage: () => assert.fail('no message') })
    assert.equal(srv.requests.length, 0)
  } finally {
    await srv.close()
  }
})

test('input may be a URL or a Request; bodies may be URLSearchParams or bytes', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    await fetchEventSource(new URL(srv.url), { method: 'PUT', body: new URLSearchParams({ a: '1', b: 'é' }) })
    await fetchEventSource(new Request(srv.url, { method: 'POST', body: 'from a request' }), {})
    await fetchEventSource(srv.url, { method: 'PATCH', body: new Uint8Array([1, 2, 3]) })
    const [form, request, bytes] = srv.requests
    assert.equal(form.method, 'PUT')
    assert.equal(form.body.toString(), 'a=1&b=%C3%A9')
    assert.match(form.headers['content-type'], /^application\/x-www-form-urlencoded/)
    assert.equal(request.method, 'POST')
    assert.equal(request.body.toString(), 'from a request')
    assert.equal(bytes.method, 'PATCH')
    assert.deepEqual([...bytes.body], [1, 2, 3])
  } finally {
    await srv.close()
  }
})

test('a redirect is followed', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/sse') {
      res.writeHead(302, { location: '/final' })
      res.end()
    } else {
      sse(res, 'data: arrived\n\n')
    }
  })
  try {
    const data = []
    await fetchEventSource(srv.url, { onmessage: (ev) => data.push(ev.data) })
    assert.deepEqual(data, ['arrived'])
    assert.deepEqual(
      srv.requests.map((r) => r.url),
      ['/sse', '/final'],
    )
  } finally {
    await srv.close()
  }
})

test('unicode split across writes arrives whole in data, event and id', async () => {
  const bytes = Buffer.from('id: ключ-🔑\nevent: 通知\ndata: héllo 🌍\n\n')
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const byte of bytes) await new Promise((resolve) => res.write(Buffer.from([byte]), resolve))
    res.end()
  })
  try {
    const events = []
    await fetchEventSource(srv.url, { onmessage: (ev) => events.push(ev) })
    assert.deepEqual(events, [{ id: 'ключ-🔑', event: '通知', data: 'héllo 🌍', retry: undefined }])
  } finally {
    await srv.close()
  }
})
