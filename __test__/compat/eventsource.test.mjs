// Issue 12: native-sse/eventsource behaves as the WHATWG EventSource (and the `eventsource` package
// v4 it replaces) against real servers on 127.0.0.1: every listener form, the readyState
// transitions in order, reconnects with Last-Event-ID and `retry`, close() from each listener, the
// failures that end it for good, redirects and unicode. Where the point is that nothing more
// happens (no reconnect after close() or a failure), the client runs in a child process, and that
// process exiting by itself is the proof: a pending reconnect or an open request would keep it alive.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { EventSource, ErrorEvent } from 'native-sse/eventsource'
import DefaultEventSource from 'native-sse/eventsource'
import { SSEClient } from '../../index.mjs'
import { runModule } from '../helpers/child.mjs'
import { startServer, startRawServer, sse, SSE_HEAD } from '../helpers/server.mjs'
import { record } from '../helpers/event-log.mjs'
import { dropAfter } from '../helpers/event-stream.mjs'

test('the constants are on the class and on instances, and a new instance is CONNECTING', async () => {
  const srv = await startServer((req, res) => sse(res, 'retry: 5\n\n'))
  try {
    assert.deepEqual([EventSource.CONNECTING, EventSource.OPEN, EventSource.CLOSED], [0, 1, 2])
    const es = new EventSource(srv.url)
    assert.deepEqual([es.CONNECTING, es.OPEN, es.CLOSED], [0, 1, 2])
    assert.equal(es.readyState, EventSource.CONNECTING)
    assert.ok(es instanceof EventTarget)
    assert.equal(Object.prototype.toString.call(es), '[object EventSource]')
    assert.equal(es.url, srv.url)
    assert.equal(es.withCredentials, false)
    assert.equal(es.lastEventId, '')
    assert.equal(es.onopen, null)
    assert.equal(es.onmessage, null)
    assert.equal(es.onerror, null)
    es.close()
    assert.equal(es.readyState, EventSource.CLOSED)
    es.close()
    assert.equal(es.readyState, EventSource.CLOSED, 'close() is idempotent')
    const withCredentials = new EventSource(new URL(srv.url), { withCredentials: true })
    assert.equal(withCredentials.withCredentials, true)
    assert.equal(withCredentials.url, srv.url, 'a URL object is taken as its href')
    withCredentials.close()
    assert.equal(DefaultEventSource, EventSource)
  } finally {
    await srv.close()
  }
})

test('ESM import and CommonJS require give the same class', () => {
  const cjs = createRequire(import.meta.url)('native-sse/eventsource')
  assert.equal(cjs.EventSource, EventSource)
  assert.equal(cjs.ErrorEvent, ErrorEvent)
})

test('a URL that does not parse throws a SyntaxError DOMException; so does a bad method', () => {
  assert.throws(
    () => new EventSource('not a url'),
    (err) => err instanceof DOMException && err.name === 'SyntaxError' && /not a url/.test(err.message),
  )
  assert.throws(() => new EventSource('http://127.0.0.1:1/', { method: 'TRACE' }), TypeError)
})

test('onopen, onmessage and addEventListener all fire, with MessageEvents carrying data, lastEventId, origin, type and target', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'id: 7\ndata: first\n\nevent: notice\ndata: named\n\nevent: message\ndata: explicit\n\n'),
  )
  try {
    const es = new EventSource(srv.url)
    const calls = []
    es.onopen = function (event) {
      calls.push(['onopen', event.type, this === es, event.target === es])
    }
    es.onmessage = function (event) {
      calls.push(['onmessage', event.data, this === es])
    }
    es.addEventListener('message', (event) => calls.push(['message listener', event.data]))
    es.addEventListener('notice', (event) => calls.push(['notice listener', event.data]))
    // A listener object (handleEvent) works as well.
    es.addEventListener('message', { handleEvent: (event) => calls.push(['handleEvent', event.data]) })
    const log = record(es, ['notice'])
    await log.until(() => log.count('message') === 2)
    es.close()
    assert.deepEqual(calls, [
      ['onopen', 'open', true, true],
      ['onmessage', 'first', true],
      ['message listener', 'first'],
      ['handleEvent', 'first'],
      ['notice listener', 'named'],
      ['onmessage', 'explicit', true],
      ['message listener', 'explicit'],
      ['handleEvent', 'explicit'],
    ])
    const [, , first] = log.find(([type]) => type === 'message')
    assert.ok(first instanceof MessageEvent)
    assert.equal(first.type, 'message')
    assert.equal(first.data, 'first')
    assert.equal(first.lastEventId, '7')
    assert.equal(first.origin, new URL(srv.url).origin)
    assert.equal(first.target, es)
    const [, , notice] = log.find(([type]) => type === 'notice')
    assert.equal(notice.type, 'notice')
    // The last event ID string persists to events without an id field.
    assert.equal(notice.lastEventId, '7')
    assert.equal(es.lastEventId, '7')
  } finally {
    await srv.close()
  }
})

test('setting onmessage to null unsubscribes it, setting it again subscribes the new function, removeEventListener works', async () => {
  let release
  const gate = new Promise((resolve) => (release = resolve))
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\n')
    await gate
    res.end('data: 2\n\ndata: 3\n\n')
  })
  try {
    const es = new EventSource(srv.url)
    const seen = []
    const first = (event) => seen.push(['first', event.data])
    const listener = (event) => seen.push(['listener', event.data])
    es.onmessage = first
    es.addEventListener('message', listener)
    assert.equal(es.onmessage, first)
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.onmessage = null
    assert.equal(es.onmessage, null)
    es.removeEventListener('message', listener)
    es.onmessage = (event) => seen.push(['second', event.data])
    // Not a function: the same as null.
    es.onerror = 'not a function'
    assert.equal(es.onerror, null)
    release()
    await log.until(() => log.count('message') === 3)
    es.close()
    assert.deepEqual(seen, [
      ['first', '1'],
      ['listener', '1'],
      ['second', '2'],
      ['second', '3'],
    ])
  } finally {
    await srv.close()
  }
})

test('readyState goes CONNECTING, OPEN for every event, CONNECTING with an error event when the server ends the response, OPEN again, then CLOSED', async () => {
  const srv = await startServer((req, res) => {
    if (srv.requests.length === 1) sse(res, 'retry: 10\ndata: a\n\nid: 9\ndata: b\n\n')
    else sse(res, 'data: c\n\n')
  })
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    assert.equal(es.readyState, EventSource.CONNECTING)
    await log.until(() => log.count('message') === 3)
    es.close()
    assert.equal(es.readyState, EventSource.CLOSED)
    assert.deepEqual(log.states(), ['open@1', 'message:a@1', 'message:b@1', 'error@0', 'open@1', 'message:c@1'])
    // The last event ID string carries over to the next connection's events.
    assert.deepEqual(
      log.filter(([type]) => type === 'message').map(([, , e]) => e.lastEventId),
      ['', '9', '9'],
    )
    assert.equal(srv.requests[1].headers['last-event-id'], '9')
    const [, , error] = log.find(([type]) => type === 'error')
    assert.ok(error instanceof ErrorEvent)
    assert.equal(error.code, undefined)
    assert.match(error.message, /closed/)
  } finally {
    await srv.close()
  }
})

test('after the server ends the response it reconnects with Last-Event-ID and waits the retry time the server set', async () => {
  let endedAt = 0
  const srv = await startServer((req, res) => {
    const n = srv.requests.length
    if (n === 1) {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.end('retry: 300\nid: 41\ndata: first\n\n', () => (endedAt = performance.now()))
    } else {
      srv.reconnectAfter = performance.now() - endedAt
      sse(res, `id: ${Number(req.headers['last-event-id']) + 1}\ndata: resumed\n\n`)
    }
  })
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 2)
    es.close()
    assert.equal(srv.requests[0].headers['last-event-id'], undefined)
    assert.equal(srv.requests[1].headers['last-event-id'], '41')
    assert.equal(srv.requests[1].headers.accept, 'text/event-stream')
    assert.ok(srv.reconnectAfter >= 280, `reconnected after ${srv.reconnectAfter} ms, retry was 300`)
    const [, , resumed] = log.filter(([type]) => type === 'message')[1]
    assert.equal(resumed.data, 'resumed')
    assert.equal(resumed.lastEventId, '42')
  } finally {
    await srv.close()
  }
})

// A chunked body cut off mid-stream: a dropped connection, which the native client retries itself.

test('a dropped connection is reestablished with Last-Event-ID (error event in CONNECTING, then open), and the id carries over', async () => {
  const srv = await startRawServer((socket, head) => {
    if (srv.connections === 1) return dropAfter(socket, 'retry: 10\nid: 1\ndata: one\n\ndata: tr')
    srv.heads.push(head)
    socket.end(`${SSE_HEAD}data: two\n\n`)
  })
  srv.heads = []
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 2)
    es.close()
    assert.deepEqual(log.states(), ['open@1', 'message:one@1', 'error@0', 'open@1', 'message:two@1'])
    const [, , error] = log.find(([type]) => type === 'error')
    assert.equal(error.code, undefined)
    assert.equal(error.error.code, 'NETWORK')
    assert.equal(error.error.willRetry, true)
    assert.match(srv.heads[0], /^last-event-id: 1\r$/im)
    const two = log.filter(([type]) => type === 'message')[1][2]
    assert.equal(two.lastEventId, '1', 'the last event ID string survives a reconnect')
  } finally {
    await srv.close()
  }
})

test('an empty id field resets the last event ID: the next reconnect sends no Last-Event-ID', async () => {
  const srv = await startServer((req, res) => {
    if (srv.requests.length === 1) sse(res, 'retry: 10\nid: 5\ndata: a\n\nid\ndata: b\n\n')
    else sse(res, 'data: c\n\n')
  })
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 3)
    es.close()
    assert.deepEqual(
      log.filter(([type]) => type === 'message').map(([, , e]) => [e.data, e.lastEventId]),
      [
        ['a', '5'],
        ['b', ''],
        ['c', ''],
      ],
    )
    assert.equal(srv.requests[1].headers['last-event-id'], undefined)
  } finally {
    await srv.close()
  }
})

/**
 * Runs `body` (ES module source that has `EventSource`, `url` and `print`) in a child process;
 * returns what it printed, once the child has exited by itself.
 */
async function inChild(url, body) {
  const { code, signal, out } = await runModule(
    `import { EventSource } from 'native-sse/eventsource'
     const url = process.argv[1]
     const print = (...parts) => console.log(parts.join(' '))
     ${body}`,
    [url],
  )
  assert.equal(signal, null, `the child had to be killed: something kept it alive\n${out}`)
  assert.equal(code, 0, out)
  return out.trim().split('\n')
}

for (const [what, status, headers, code, message] of [
  ['a 500', 500, { 'content-type': 'text/event-stream' }, 500, /500/],
  ['a 404', 404, { 'content-type': 'text/plain' }, 404, /404/],
  // Retry-After: 1 because the native client waits it on its own thread after reporting the 503;
  // with 0 it could send a second request before the JS side aborts the first.
  ['a 503 with Retry-After (which the native client alone would retry)', 503, { 'retry-after': '1' }, 503, /503/],
  ['a 201 (success, but not 200)', 201, { 'content-type': 'text/event-stream' }, 201, /Non-200 status code \(201\)/],
  ['a 204', 204, {}, 204, /204/],
  ['a 200 with content-type text/plain', 200, { 'content-type': 'text/plain' }, 200, /content type.*text\/plain/i],
  ['a 200 with no content-type', 200, {}, 200, /content type.*none/i],
]) {
  test(`${what} fails the connection: CLOSED, one error event with code ${code} and a message, no reconnect`, async () => {
    const srv = await startServer((req, res) => {
      res.writeHead(status, headers)
      res.end(status === 204 ? undefined : 'data: must not be delivered\n\n')
    })
    try {
      const lines = await inChild(
        srv.url,
        `const es = new EventSource(url)
         es.onopen = () => print('open')
         es.onmessage = (e) => print('message', e.data)
         es.onerror = (e) => print('error', es.readyState, e.code, JSON.stringify(e.message))`,
      )
      assert.equal(lines.length, 1, lines.join('\n'))
      const [, state, gotCode, gotMessage] = lines[0].split(' ')
      assert.equal(state, '2')
      assert.equal(Number(gotCode), code)
      assert.match(JSON.parse(lines[0].slice(lines[0].indexOf('"'))), message, gotMessage)
      assert.equal(srv.requests.length, 1)
    } finally {
      await srv.close()
    }
  })
}

test('a URL the native client cannot use (ftp:) fails the connection after the constructor returned', async () => {
  const es = new EventSource('ftp://127.0.0.1/feed')
  assert.equal(es.readyState, EventSource.CONNECTING)
  const log = record(es)
  await log.until(() => log.count('error') === 1)
  assert.equal(es.readyState, EventSource.CLOSED)
  const [[, state, error]] = log
  assert.equal(state, EventSource.CLOSED)
  assert.equal(error.error.code, 'INVALID_URL')
  assert.match(error.message, /ftp/)
})

test('a content-type with parameters (text/event-stream; charset=utf-8) is accepted', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'data: ok\n\n', { 'content-type': 'Text/Event-Stream; charset=utf-8' }),
  )
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    assert.deepEqual(log.states(), ['open@1', 'message:ok@1'])
  } finally {
    await srv.close()
  }
})

test('close() in onopen: CLOSED, no message, no reconnect', async () => {
  const srv = await startServer((req, res) => sse(res, 'retry: 1\ndata: a\n\n'))
  try {
    const lines = await inChild(
      srv.url,
      `const es = new EventSource(url)
       es.onopen = () => { es.close(); print('open', es.readyState) }
       es.onmessage = (e) => print('message', e.data)
       es.onerror = () => print('error')`,
    )
    assert.deepEqual(lines, ['open 2'])
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('close() in onmessage: no later event of the same chunk is dispatched, no reconnect', async () => {
  const srv = await startServer((req, res) => sse(res, 'retry: 1\ndata: a\n\ndata: b\n\nevent: x\ndata: c\n\n'))
  try {
    const lines = await inChild(
      srv.url,
      `const es = new EventSource(url)
       es.onmessage = (e) => { print('message', e.data); es.close() }
       es.addEventListener('x', () => print('x'))
       es.onerror = () => print('error')`,
    )
    assert.deepEqual(lines, ['message a'])
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('close() in a named event listener and in a second listener of the same event: nothing after it', async () => {
  const srv = await startServer((req, res) => sse(res, 'retry: 1\nevent: x\ndata: a\n\ndata: b\n\n'))
  try {
    const lines = await inChild(
      srv.url,
      `const es = new EventSource(url)
       es.addEventListener('x', (e) => print('first', e.data))
       es.addEventListener('x', (e) => { print('second', e.data); es.close() })
       es.onmessage = (e) => print('message', e.data)`,
    )
    assert.deepEqual(lines, ['first a', 'second a'])
  } finally {
    await srv.close()
  }
})

test('close() in onerror after the server ended the response: no reconnect', async () => {
  const srv = await startServer((req, res) => sse(res, 'retry: 1\ndata: a\n\n'))
  try {
    const lines = await inChild(
      srv.url,
      `const es = new EventSource(url)
       es.onmessage = (e) => print('message', e.data)
       es.onerror = () => { print('error', es.readyState); es.close(); print('closed', es.readyState) }`,
    )
    assert.deepEqual(lines, ['message a', 'error 0', 'closed 2'])
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('close() in onerror while the native client is about to retry a dropped connection: no reconnect', async () => {
  // The native client waits `retry` on its own thread after reporting the drop: long enough that
  // close() from the error listener comes first.
  const srv = await startRawServer((socket) => dropAfter(socket, 'retry: 500\ndata: a\n\ndata: cut'))
  try {
    const lines = await inChild(
      srv.url,
      `const es = new EventSource(url)
       es.onmessage = (e) => print('message', e.data)
       es.onerror = (e) => { print('error', es.readyState, e.error.code); es.close() }`,
    )
    assert.deepEqual(lines, ['message a', 'error 0 NETWORK'])
    assert.equal(srv.connections, 1)
  } finally {
    await srv.close()
  }
})

test('a server that stops answering is retried (an error event in CONNECTING per failed attempt) until it answers again', async () => {
  const srv = await startRawServer((socket) => {
    const n = srv.connections
    if (n === 1) dropAfter(socket, 'retry: 10\ndata: a\n\n')
    else if (n <= 3) socket.destroy()
    else socket.end(`${SSE_HEAD}data: back\n\n`)
  })
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 2)
    es.close()
    assert.deepEqual(log.states(), [
      'open@1',
      'message:a@1',
      'error@0',
      'error@0',
      'error@0',
      'open@1',
      'message:back@1',
    ])
    assert.equal(srv.connections, 4)
  } finally {
    await srv.close()
  }
})

test('redirects are followed (301 and 307), and url stays the one given', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/sse') {
      res.writeHead(301, { location: '/moved' })
      res.end()
    } else if (req.url === '/moved') {
      res.writeHead(307, { location: '/final' })
      res.end()
    } else {
      sse(res, 'data: arrived\n\n')
    }
  })
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    assert.deepEqual(
      srv.requests.map((r) => r.url),
      ['/sse', '/moved', '/final'],
    )
    assert.equal(es.url, srv.url)
    assert.equal(log.find(([type]) => type === 'message')[2].data, 'arrived')
  } finally {
    await srv.close()
  }
})

test('unicode: multi-byte text split across writes arrives whole, in data, event names and ids', async () => {
  const text = 'id: ключ-🔑\nevent: 通知\ndata: héllo wörld 🌍\ndata: 第二行\n\n'
  const bytes = Buffer.from(text)
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    // One byte at a time: every multi-byte character is split.
    for (const byte of bytes) await new Promise((resolve) => res.write(Buffer.from([byte]), resolve))
    res.end()
  })
  try {
    const es = new EventSource(srv.url)
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

test('extensions: init.method, init.headers and init.body are sent, and on every reconnect', async () => {
  const srv = await startServer((req, res) => {
    if (srv.requests.length === 1) sse(res, 'retry: 10\nid: 1\ndata: a\n\n')
    else sse(res, 'data: b\n\n')
  })
  try {
    const es = new EventSource(srv.url, {
      method: 'post',
      headers: { Authorization: 'Bearer t', 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'hi' }),
    })
    const log = record(es)
    await log.until(() => log.count('message') === 2)
    es.close()
    for (const r of srv.requests) {
      assert.equal(r.method, 'POST')
      assert.equal(r.headers.authorization, 'Bearer t')
      assert.equal(r.headers['content-type'], 'application/json')
      assert.equal(r.headers.accept, 'text/event-stream')
      assert.equal(r.body.toString(), '{"prompt":"hi"}')
    }
    assert.equal(srv.requests[1].headers['last-event-id'], '1')
  } finally {
    await srv.close()
  }
})

test('extension: init.client sends through a given SSEClient (its headers apply)', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: a\n\n'))
  const client = new SSEClient({ headers: { 'x-from-client': 'yes' } })
  try {
    const es = new EventSource(srv.url, { client })
    const log = record(es)
    await log.until(() => log.count('message') === 1)
    es.close()
    assert.equal(srv.requests[0].headers['x-from-client'], 'yes')
    assert.throws(() => new EventSource(srv.url, { client: {} }), TypeError)
  } finally {
    client.clear()
    await srv.close()
  }
})

test('extension: init.client still works after the client was cleared', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: a\n\n'))
  const client = new SSEClient()
  try {
    for (let round = 0; round < 2; round++) {
      const es = new EventSource(srv.url, { client })
      const log = record(es)
      await log.until(() => log.count('message') === 1)
      es.close()
      // Removes the drop-in's shared instance of this client.
      client.clear()
    }
    assert.equal(srv.requests.length, 2)
  } finally {
    await srv.close()
  }
})

test('an event stream with a BOM, CRLF line ends and comments parses as the spec says', async () => {
  const srv = await startServer((req, res) =>
    sse(res, '\ufeff: comment\r\ndata: one\r\ndata:two\r\n\r\n:ping\r\n\r\ndata\r\n\r\n'),
  )
  try {
    const es = new EventSource(srv.url)
    const log = record(es)
    await log.until(() => log.count('message') === 2)
    es.close()
    assert.deepEqual(
      log.filter(([type]) => type === 'message').map(([, , e]) => e.data),
      ['one\ntwo', ''],
    )
  } finally {
    await srv.close()
  }
})
