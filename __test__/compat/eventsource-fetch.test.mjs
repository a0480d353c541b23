// native-sse/eventsource with init.fetch, as the `eventsource` package (v4) takes it: the user's
// fetch makes every request, called with the URL and init the package passes, and the events of
// the Response it returns go through the native parser. Against real servers on 127.0.0.1; the
// custom fetches here wrap the global fetch (recording their calls, adding headers, re-chunking
// bodies, failing on purpose).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventSource } from 'native-sse/eventsource'
import { startServer, sse, unusedPort } from '../helpers/server.mjs'
import { recordingFetch, oneByteChunks } from '../helpers/custom-fetch.mjs'
import { record } from '../helpers/event-log.mjs'

test('the custom fetch gets the URL and the package init; onopen, onmessage, addEventListener and named events fire', async () => {
  const srv = await startServer((req, res) => sse(res, 'id: 1\ndata: first\n\nevent: update\ndata: second\n\n'))
  try {
    const myFetch = recordingFetch()
    const es = new EventSource(srv.url, { fetch: myFetch })
    const log = record(es, ['update'])
    const seen = []
    es.onopen = (event) => seen.push(['onopen', event.type, es.readyState])
    es.onmessage = (event) => seen.push(['onmessage', event.data, event.lastEventId, event.origin])
    await log.until(() => log.count('update') === 1)
    es.close()
    assert.equal(myFetch.calls.length, 1)
    const [{ input, init }] = myFetch.calls
    assert.ok(input instanceof URL, 'the package passes its URL object')
    assert.equal(input.href, srv.url)
    assert.deepEqual(Object.keys(init).sort(), ['cache', 'headers', 'mode', 'redirect', 'signal'])
    assert.equal(init.mode, 'cors')
    assert.equal(init.redirect, 'follow')
    assert.equal(init.cache, 'no-store')
    assert.deepEqual(init.headers, { Accept: 'text/event-stream' })
    assert.ok(init.signal instanceof AbortSignal)
    assert.equal('credentials' in init, false, 'credentials are only set where there is a window')
    assert.equal(srv.requests[0].headers.accept, 'text/event-stream')
    assert.deepEqual(seen, [
      ['onopen', 'open', EventSource.OPEN],
      ['onmessage', 'first', '1', new URL(srv.url).origin],
    ])
    const update = log.find(([type]) => type === 'update')[2]
    assert.ok(update instanceof MessageEvent)
    assert.equal(update.data, 'second')
    assert.equal(update.lastEventId, '1', 'the last event ID carries to events without an id')
    assert.equal(update.target, es)
    assert.equal(es.lastEventId, '1')
  } finally {
    await srv.close()
  }
})

test('after the server ends the response the custom fetch is called again with Last-Event-ID, after the retry time the server set', async () => {
  let n = 0
  const srv = await startServer((req, res) => {
    n++
    if (n === 1) return sse(res, 'retry: 20\nid: 41\ndata: a\n\nid: 42\ndata: b\n\n')
    sse(res, 'data: c\n\n')
  })
  try {
    const myFetch = recordingFetch()
    const es = new EventSource(srv.url, { fetch: myFetch })
    const log = record(es)
    await log.until(() => log.count('message') === 3)
    es.close()
    assert.deepEqual(myFetch.calls[0].init.headers, { Accept: 'text/event-stream' })
    assert.deepEqual(myFetch.calls[1].init.headers, { Accept: 'text/event-stream', 'Last-Event-ID': '42' })
    assert.notEqual(myFetch.calls[1].init.signal, myFetch.calls[0].init.signal, 'one AbortSignal per connection')
    assert.equal(srv.requests[1].headers['last-event-id'], '42')
    assert.deepEqual(
      log.map(([type, state, event]) => `${type}:${event.data ?? ''}@${state}`),
      ['open:@1', 'message:a@1', 'message:b@1', 'error:@0', 'open:@1', 'message:c@1'],
    )
    assert.equal(log.at(-1)[2].lastEventId, '42', 'the id carries over to the next connection')
  } finally {
    await srv.close()
  }
})

test('the request is what the custom fetch makes of it: a POST with an Authorization header and a body', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  try {
    const es = new EventSource(srv.url, {
      fetch: (input, init) =>
        fetch(input, {
          ...init,
          method: 'POST',
          headers: { ...init.headers, authorization: 'Bearer token' },
          body: '{"q":1}',
        }),
    })
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    const [request] = srv.requests
    assert.equal(request.method, 'POST')
    assert.equal(request.headers.authorization, 'Bearer token')
    assert.equal(request.headers.accept, 'text/event-stream')
    assert.equal(request.body.toString(), '{"q":1}')
  } finally {
    await srv.close()
  }
})

test('the extensions init.method, init.headers and init.body reach the custom fetch with the package init', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  try {
    const myFetch = recordingFetch()
    const es = new EventSource(srv.url, {
      fetch: myFetch,
      method: 'post',
      headers: { 'X-Trace': '1', Accept: 'text/event-stream; q=1' },
      body: { prompt: 'hi' },
    })
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    const [{ init }] = myFetch.calls
    assert.equal(init.method, 'POST')
    assert.equal(init.body, '{"prompt":"hi"}', 'an object body is sent as JSON, as on the native transport')
    assert.deepEqual(init.headers, { Accept: 'text/event-stream; q=1', 'x-trace': '1' })
    assert.equal(srv.requests[0].method, 'POST')
    assert.equal(srv.requests[0].body.toString(), '{"prompt":"hi"}')
  } finally {
    await srv.close()
  }
})

for (const [what, status, headers, code, message] of [
  ['a 500', 500, { 'content-type': 'text/event-stream' }, 500, 'Non-200 status code (500)'],
  ['a 204', 204, {}, 204, 'Server sent HTTP 204, not reconnecting'],
  ['a text/html body', 200, { 'content-type': 'text/html' }, 200, 'Invalid content type, expected "text/event-stream"'],
]) {
  test(`${what} from the custom fetch's Response fails the connection: CLOSED, one error event with code ${code}`, async () => {
    const srv = await startServer((req, res) => {
      res.writeHead(status, headers)
      res.end(status === 204 ? undefined : 'data: no\n\n')
    })
    try {
      const myFetch = recordingFetch()
      const es = new EventSource(srv.url, { fetch: myFetch })
      const log = record(es)
      await log.until(() => log.count('error') === 1)
      const [[type, state, event]] = log
      assert.equal(type, 'error')
      assert.equal(state, EventSource.CLOSED)
      assert.equal(es.readyState, EventSource.CLOSED)
      assert.equal(event.code, code)
      assert.ok(event.message.startsWith(message), event.message)
      assert.equal(myFetch.calls[0].init.signal.aborted, true, 'the failed response is aborted')
      assert.equal(myFetch.calls.length, 1)
    } finally {
      await srv.close()
    }
  })
}

test('each failure of the custom fetch is an error event with its message, then the connection is reestablished', async () => {
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (req.url === '/sse?drop') {
      // Part of an event, then the socket is destroyed: the body errors mid-stream.
      await new Promise((resolve) => res.write('data: cut', resolve))
      return req.socket.destroy()
    }
    res.end('retry: 1\ndata: ok\n\n')
  })
  try {
    const failure = new Error('no network today')
    const myFetch = recordingFetch([
      undefined,
      () => {
        throw failure
      },
      () => Promise.reject(new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED') })),
      () => Promise.resolve(undefined),
      (input, init) => fetch(`${input.href}?drop`, init),
    ])
    const es = new EventSource(srv.url, { fetch: myFetch })
    const log = record(es)
    await log.until(() => log.count('message') === 2)
    es.close()
    assert.equal(myFetch.calls.length, 6)
    const errors = log.errors()
    assert.deepEqual(errors.slice(0, 4), [
      [EventSource.CONNECTING, 'the server closed the connection'],
      [EventSource.CONNECTING, 'no network today'],
      [EventSource.CONNECTING, 'fetch failed: connect ECONNREFUSED'],
      [EventSource.CONNECTING, 'the custom fetch resolved with undefined, not a Response'],
    ])
    assert.equal(errors[4][0], EventSource.CONNECTING)
    assert.match(errors[4][1], /terminated/, 'the body error is what the reader rejected with')
    assert.equal(
      log.find(([type, , event]) => type === 'error' && event.message === 'no network today')[2].error,
      failure,
    )
    assert.ok(
      !log.some(([type, , event]) => type === 'message' && event.data === 'cut'),
      'an unfinished event is dropped',
    )
  } finally {
    await srv.close()
  }
})

test('a Response without a body fails the connection after the open event: CLOSED, no second call', async () => {
  const myFetch = recordingFetch([
    () => new Response(null, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
  ])
  const es = new EventSource('http://127.0.0.1:9/sse', { fetch: myFetch })
  const log = record(es)
  await log.until(() => log.count('error') === 1)
  assert.deepEqual(
    log.map(([type, state]) => `${type}@${state}`),
    ['open@1', 'error@2'],
  )
  assert.equal(log[1][2].message, 'Invalid response body, expected a web ReadableStream')
  assert.equal(log[1][2].code, 200)
  assert.equal(es.readyState, EventSource.CLOSED)
  assert.equal(myFetch.calls.length, 1)
})

test('a response-like object whose body is not a web stream fails the connection the same way', async () => {
  const es = new EventSource('http://127.0.0.1:9/sse', {
    fetch: async (input) => ({
      body: 'not a stream',
      redirected: false,
      status: 200,
      headers: new Headers({ 'content-type': 'text/event-stream' }),
      url: input.href,
    }),
  })
  const log = record(es)
  await log.until(() => log.count('error') === 1)
  const [, , event] = log.find(([type]) => type === 'error')
  assert.equal(event.message, 'Invalid response body, expected a web ReadableStream')
  assert.equal(event.code, 200)
  assert.equal(es.readyState, EventSource.CLOSED)
})

test("a connection refused under a custom fetch is an error event with fetch's message and no code, in CONNECTING", async () => {
  const es = new EventSource(`http://127.0.0.1:${await unusedPort()}/sse`, {
    fetch: (input, init) => fetch(input, init),
  })
  const log = record(es)
  await log.until(() => log.count('error') === 1)
  es.close()
  const [[type, state, event]] = log
  assert.equal(type, 'error')
  assert.equal(state, EventSource.CONNECTING)
  assert.match(event.message, /^fetch failed: .*ECONNREFUSED/)
  assert.equal(event.code, undefined)
})

test('across reconnects under a custom fetch: onopen can be replaced and nulled, every event targets the EventSource, close() in onerror ends it', async () => {
  const srv = await startServer((req, res) =>
    sse(res, `retry: 1\nid: ${srv.requests.length}\nevent: counter\ndata: n\n\n`),
  )
  try {
    const myFetch = recordingFetch()
    const es = new EventSource(srv.url, { fetch: myFetch })
    const log = record(es, ['counter'])
    const opens = { first: 0, second: 0 }
    es.onopen = () => opens.first++
    // Each connection is open, counter, error: a change made on counter N applies from the next
    // open and to this connection's error.
    es.addEventListener('counter', (event) => {
      if (event.lastEventId === '2') es.onopen = () => opens.second++
      if (event.lastEventId === '3') es.onopen = null
      if (event.lastEventId === '4') es.onerror = () => es.close()
    })
    await log.until(() => log.count('error') === 4)
    assert.deepEqual(opens, { first: 2, second: 1 })
    assert.ok(log.every(([, , event]) => event.target === es))
    assert.equal(log.filter(([type]) => type === 'counter').at(-1)[2].lastEventId, '4')
    assert.equal(es.readyState, EventSource.CLOSED)
    await srv.idle()
    assert.equal(myFetch.calls.length, 4)
  } finally {
    await srv.close()
  }
})

test('close() aborts the signal the custom fetch got and the connection is closed; close() before the answer too', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: hello\n\n')
  })
  try {
    const myFetch = recordingFetch()
    const es = new EventSource(srv.url, { fetch: myFetch })
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    assert.equal(myFetch.calls[0].init.signal.aborted, true)
    await srv.idle()
    assert.equal(es.readyState, EventSource.CLOSED)

    let answer
    const pending = recordingFetch([() => new Promise((resolve) => (answer = resolve))])
    const early = new EventSource(srv.url, { fetch: pending })
    const earlyLog = record(early)
    early.close()
    assert.equal(pending.calls[0].init.signal.aborted, true)
    // The fetch ignored the signal and answers anyway: nothing is dispatched.
    answer(await fetch(srv.url))
    await srv.idle()
    assert.equal(earlyLog.length, 0)
  } finally {
    await srv.close()
  }
})

test('close() in onmessage stops the rest of the chunk and the read', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: 1\n\ndata: 2\n\ndata: 3\n\n'))
  try {
    const es = new EventSource(srv.url, { fetch: recordingFetch() })
    const got = []
    const closed = new Promise((resolve) => {
      es.onmessage = (event) => {
        got.push(event.data)
        es.close()
        resolve()
      }
    })
    await closed
    await srv.idle()
    assert.deepEqual(got, ['1'])
  } finally {
    await srv.close()
  }
})

test('unicode split into one-byte chunks arrives whole, in data, event names and ids', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'id: ключ-🔑\nevent: 通知\ndata: héllo wörld 🌍\ndata: 第二行\n\n'),
  )
  try {
    const es = new EventSource(srv.url, { fetch: async (input, init) => oneByteChunks(await fetch(input, init)) })
    const log = record(es, ['通知'])
    await log.until(() => log.count('通知') === 1)
    es.close()
    const [, , event] = log.find(([type]) => type === '通知')
    assert.equal(event.data, 'héllo wörld 🌍\n第二行')
    assert.equal(event.lastEventId, 'ключ-🔑')
  } finally {
    await srv.close()
  }
})

test('a redirect followed by the custom fetch: url stays the one given, events carry the final origin', async () => {
  const target = await startServer((req, res) => sse(res, 'data: arrived\n\n'))
  const srv = await startServer((req, res) => {
    res.writeHead(307, { location: target.url })
    res.end()
  })
  try {
    const myFetch = recordingFetch()
    const es = new EventSource(srv.url, { fetch: myFetch })
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    assert.equal(myFetch.calls[0].init.redirect, 'follow')
    assert.equal(es.url, srv.url)
    const [, , event] = log.find(([type]) => type === 'message')
    assert.equal(event.data, 'arrived')
    assert.equal(event.origin, new URL(target.url).origin)
    assert.equal(srv.requests.length, 1)
    assert.equal(target.requests.length, 1)
  } finally {
    await srv.close()
    await target.close()
  }
})

test('globalThis.fetch passed by habit keeps the native transport; a fetch that is not a function throws', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: native\n\n'))
  try {
    const es = new EventSource(srv.url, { fetch: globalThis.fetch })
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    assert.match(srv.requests[0].headers['user-agent'], /^native-sse\//)
    assert.throws(
      () => new EventSource(srv.url, { fetch: 'fetch' }),
      (err) => err instanceof TypeError && err.message === 'init.fetch must be a function, got string',
    )
  } finally {
    await srv.close()
  }
})
