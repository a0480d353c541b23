// Issue 2: the seed's API end to end against real servers on 127.0.0.1.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient, ServerSentEvents, SseRequest } from '../../index.mjs'
import {
  startServer,
  startRawServer,
  sse,
  collect,
  delay,
  unusedPort,
  SSE_HEAD,
  settle,
  closeSentinel,
} from '../helpers/server.mjs'

after(closeSentinel)

test("the seed's example: post a JSON body, stream messages back, done resolves", async () => {
  const srv = await startServer((req, res, body) => {
    const { name } = JSON.parse(body)
    sse(res, `data: hello ${name}\n\ndata: bye ${name}\n\n`)
  })
  try {
    const sseClient = new SSEClient()
    const instance = sseClient.create()
    assert.ok(instance instanceof ServerSentEvents)
    const got = collect(instance, { url: srv.url, body: { name: 'andy' } })
    assert.ok(got.req instanceof SseRequest)
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['hello andy', 'bye andy'],
    )
    assert.deepEqual(got.messages[0], { data: 'hello andy', event: 'message', id: '' })
    assert.equal(got.errors.length, 0)
    assert.equal(got.closes, 1)
    assert.equal(got.open.length, 1)
    assert.equal(got.open[0].status, 200)
    assert.equal(got.open[0].headers['content-type'], 'text/event-stream')
    assert.equal(got.req.readyState, 2)
    assert.equal(srv.requests[0].method, 'POST')
    assert.equal(srv.requests[0].headers['content-type'], 'application/json')
    assert.equal(srv.requests[0].headers.accept, 'text/event-stream')
    assert.equal(sseClient.get(instance.id), instance)
    assert.equal(sseClient.delete(instance), true)
    assert.equal(sseClient.get(instance.id), null)
  } finally {
    await srv.close()
  }
})

test('bodies reach the server byte-exact: JSON object, array, string, Buffer, Uint8Array', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  try {
    const instance = new SSEClient().create()
    const object = { text: 'héllo 🌍', n: [1, 2.5, null], nested: { a: true } }
    const binary = Buffer.from([0, 1, 2, 0xff, 0xfe, 10, 13])
    const cases = [
      [object, Buffer.from(JSON.stringify(object)), 'application/json'],
      [[1, 'two'], Buffer.from('[1,"two"]'), 'application/json'],
      ['raw text, not JSON: ü', Buffer.from('raw text, not JSON: ü'), undefined],
      [binary, binary, undefined],
      [new Uint8Array([9, 8, 7]), Buffer.from([9, 8, 7]), undefined],
    ]
    for (const [body] of cases) {
      await instance.post({ url: srv.url, body }).done
    }
    assert.equal(srv.requests.length, cases.length)
    cases.forEach(([, bytes, type], i) => {
      assert.deepEqual(srv.requests[i].body, bytes, `body ${i}`)
      assert.equal(srv.requests[i].headers['content-type'], type, `content-type ${i}`)
    })
  } finally {
    await srv.close()
  }
})

test('custom headers are sent; a given accept or content-type wins', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  try {
    const client = new SSEClient({ headers: { 'x-client': 'c', 'x-both': 'client' } })
    await client.create().post({
      url: srv.url,
      body: { a: 1 },
      headers: {
        Authorization: 'Bearer t0k',
        'x-both': 'request',
        accept: 'text/event-stream, */*',
        'content-type': 'application/vnd.x+json',
      },
    }).done
    const h = srv.requests[0].headers
    assert.equal(h.authorization, 'Bearer t0k')
    assert.equal(h['x-client'], 'c')
    assert.equal(h['x-both'], 'request')
    assert.equal(h.accept, 'text/event-stream, */*')
    assert.equal(h['content-type'], 'application/vnd.x+json')
  } finally {
    await srv.close()
  }
})

test('multi-line data, named events, ids and retry reach onMessage', async () => {
  const stream =
    ': comment\n\n' +
    'data: line 1\ndata: line 2\n\n' +
    'event: token\nid: 7\ndata: {"t":"x"}\n\n' +
    'data: keeps id\n\n' +
    'retry: 2500\ndata: with retry\n\n' +
    'data: ünïcödé 🌍 \u2028\n\n' +
    'id\ndata: id cleared\n\n'
  const srv = await startServer((req, res) => sse(res, stream))
  try {
    const got = collect(new SSEClient().create(), { url: srv.url })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(got.messages, [
      { data: 'line 1\nline 2', event: 'message', id: '' },
      { data: '{"t":"x"}', event: 'token', id: '7' },
      { data: 'keeps id', event: 'message', id: '7' },
      { data: 'with retry', event: 'message', id: '7', retry: 2500 },
      { data: 'ünïcödé 🌍 \u2028', event: 'message', id: '7' },
      { data: 'id cleared', event: 'message', id: '' },
    ])
    assert.equal(got.req.lastEventId, '')
  } finally {
    await srv.close()
  }
})

test('lastEventId follows the stream', async () => {
  const srv = await startServer((req, res) => sse(res, 'id: a1\ndata: x\n\nid: a2\ndata: y\n\n'))
  try {
    const req = new SSEClient().create().post({ url: srv.url })
    await req.done
    assert.equal(req.lastEventId, 'a2')
  } finally {
    await srv.close()
  }
})

test('events split across TCP writes at every byte position give the same messages', async () => {
  const sample = Buffer.from(
    '\ufeffid: 1\r\nevent: tok\r\ndata: héllo\r\n\r\n: c\rdata: 🌍 a\ndata: b\r\rretry: 10\ndata: z\n\n',
  )
  const expected = [
    { data: 'héllo', event: 'tok', id: '1' },
    { data: '🌍 a\nb', event: 'message', id: '1' },
    { data: 'z', event: 'message', id: '1', retry: 10 },
  ]
  let cut = 0
  const srv = await startRawServer(async (socket) => {
    const at = cut
    socket.write(SSE_HEAD)
    socket.write(sample.subarray(0, at))
    await delay(2)
    socket.end(sample.subarray(at))
  })
  try {
    const instance = new SSEClient().create()
    for (cut = 0; cut <= sample.length; cut++) {
      const got = collect(instance, { url: srv.url, reconnectCount: 0 })
      assert.deepEqual(await got.done, { ok: true }, `cut at ${cut}`)
      assert.deepEqual(got.messages, expected, `cut at ${cut}`)
    }
  } finally {
    await srv.close()
  }
})

test('abort before the response: no callback fires, done resolves, the connection closes', async () => {
  let arrived
  const requested = new Promise((resolve) => (arrived = resolve))
  const srv = await startServer(() => arrived())
  try {
    const got = collect(new SSEClient().create(), { url: srv.url })
    await requested
    assert.equal(got.req.readyState, 0)
    got.req.abort()
    assert.equal(got.req.readyState, 2)
    assert.deepEqual(await got.done, { ok: true })
    await srv.idle()
    await settle(new SSEClient())
    assert.deepEqual([got.open.length, got.messages.length, got.errors.length, got.closes], [0, 0, 0, 0])
  } finally {
    await srv.close()
  }
})

test('abort synchronously after post: nothing is delivered', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    const got = collect(new SSEClient().create(), { url: srv.url })
    got.req.abort()
    assert.deepEqual(await got.done, { ok: true })
    await settle(new SSEClient())
    assert.deepEqual([got.open.length, got.messages.length, got.errors.length, got.closes], [0, 0, 0, 0])
  } finally {
    await srv.close()
  }
})

test('abort mid-stream and twice: no callback after the first abort returns', async () => {
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < 1000 && !res.destroyed; i++) {
      res.write(`data: ${i}\n\n`)
      await delay(2)
    }
    res.end()
  })
  try {
    let afterAbort = 0
    let aborted = false
    const req = new SSEClient().create().post({
      url: srv.url,
      onMessage(msg) {
        if (aborted) afterAbort++
        if (msg.data === '5') {
          setImmediate(() => {
            req.abort()
            aborted = true
            req.abort()
          })
        }
      },
      onError: () => afterAbort++,
      onClose: () => afterAbort++,
    })
    await req.done
    await srv.idle()
    await settle(new SSEClient())
    assert.equal(aborted, true)
    assert.equal(afterAbort, 0)
    assert.equal(req.readyState, 2)
  } finally {
    await srv.close()
  }
})

test('abort from inside onMessage stops the rest of the same batch', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    // One write: the events arrive in one chunk and are delivered as one batch.
    res.write(Array.from({ length: 50 }, (_, i) => `data: ${i}\n\n`).join(''))
  })
  try {
    const seen = []
    let closes = 0
    const req = new SSEClient().create().post({
      url: srv.url,
      onMessage(msg) {
        seen.push(msg.data)
        if (msg.data === '3') req.abort()
      },
      onClose: () => closes++,
    })
    await req.done
    await srv.idle()
    assert.deepEqual(seen, ['0', '1', '2', '3'])
    assert.equal(closes, 0)
  } finally {
    await srv.close()
  }
})

test('delete() and clear() abort the open requests of their instances', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: first\n\n')
  })
  try {
    const client = new SSEClient()
    const a = client.create()
    const b = client.create()
    const c = client.create()
    assert.equal(client.size, 3)
    assert.notEqual(a.id, b.id)
    const firsts = []
    const open = (inst) => {
      let resolveFirst
      firsts.push(new Promise((resolve) => (resolveFirst = resolve)))
      return collect(inst, { url: srv.url, onMessage: () => resolveFirst() })
    }
    const ra = open(a)
    const rb = open(b)
    const rc = open(c)
    await Promise.all(firsts)
    assert.equal(client.delete(a.id), true)
    assert.equal(client.delete(a), false)
    assert.deepEqual(await ra.done, { ok: true })
    assert.equal(ra.req.readyState, 2)
    assert.equal(rb.req.readyState, 1)
    client.clear()
    assert.equal(client.size, 0)
    assert.deepEqual(await rb.done, { ok: true })
    assert.deepEqual(await rc.done, { ok: true })
    await srv.idle()
    for (const r of [ra, rb, rc]) assert.deepEqual([r.errors.length, r.closes], [0, 0])
  } finally {
    await srv.close()
  }
})

test('abortAll() aborts every open request of one instance', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(': open\n\n')
  })
  try {
    const instance = new SSEClient().create()
    const reqs = [instance.post({ url: srv.url }), instance.post({ url: srv.url })]
    while (srv.requests.length < 2) await delay(5)
    instance.abortAll()
    await Promise.all(reqs.map((r) => r.done))
    assert.deepEqual(
      reqs.map((r) => r.readyState),
      [2, 2],
    )
    await srv.idle()
  } finally {
    await srv.close()
  }
})

for (const status of [404, 500]) {
  test(`HTTP ${status} gives HTTP_STATUS with the status and the body, without retrying`, async () => {
    const srv = await startServer((req, res) => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end('{"error":"nope"}')
    })
    try {
      const got = collect(new SSEClient().create(), { url: srv.url })
      const { ok, error } = await got.done
      assert.equal(ok, false)
      assert.ok(error instanceof Error)
      assert.equal(error.name, 'SseError')
      assert.equal(error.code, 'HTTP_STATUS')
      assert.equal(error.status, status)
      assert.equal(error.body, '{"error":"nope"}')
      assert.equal(error.attempt, 0)
      assert.equal(error.willRetry, false)
      assert.match(error.message, new RegExp(String(status)))
      assert.deepEqual(got.errors, [error])
      assert.equal(got.closes, 1)
      assert.equal(srv.requests.length, 1)
    } finally {
      await srv.close()
    }
  })
}

test('a response that is not text/event-stream gives BAD_CONTENT_TYPE naming the type', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<html></html>')
  })
  try {
    const { error } = await collect(new SSEClient().create(), { url: srv.url }).done
    assert.equal(error.code, 'BAD_CONTENT_TYPE')
    assert.match(error.message, /text\/html/)
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('strictContentType: false accepts any content-type', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' })
    res.end('data: ok\n\n')
  })
  try {
    const got = collect(new SSEClient().create(), { url: srv.url, strictContentType: false })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['ok'],
    )
  } finally {
    await srv.close()
  }
})

test('an unreachable port gives NETWORK naming the cause', async () => {
  const port = await unusedPort()
  const got = collect(new SSEClient().create(), { url: `http://127.0.0.1:${port}/`, reconnectCount: 0 })
  const { error } = await got.done
  assert.equal(error.code, 'NETWORK')
  assert.match(error.message, /connection refused/i)
  assert.doesNotMatch(error.message, /^error sending request$/)
  assert.equal(error.willRetry, false)
})

test('an unreachable port is retried reconnectCount times, each onError but the last with willRetry', async () => {
  const port = await unusedPort()
  const got = collect(new SSEClient().create(), { url: `http://127.0.0.1:${port}/`, reconnectCount: 2, retryDelay: 10 })
  const { error } = await got.done
  assert.equal(error.code, 'NETWORK')
  assert.deepEqual(
    got.errors.map((e) => [e.attempt, e.willRetry]),
    [
      [0, true],
      [1, true],
      [2, false],
    ],
  )
})

test('bad arguments throw synchronously with INVALID_URL or INVALID_OPTIONS', () => {
  const instance = new SSEClient().create()
  const code = (options) => {
    try {
      // A call that does not throw has started a request: stop it, it is not what is tested here.
      instance.post(options).abort()
    } catch (err) {
      assert.ok(err instanceof Error)
      return err.code
    }
    return 'no throw'
  }
  assert.equal(code({}), 'INVALID_URL')
  assert.equal(code({ url: '' }), 'INVALID_URL')
  assert.equal(code({ url: 'not a url' }), 'INVALID_URL')
  assert.equal(code({ url: 'ftp://127.0.0.1/x' }), 'INVALID_URL')
  assert.equal(code({ url: 'file:///etc/passwd' }), 'INVALID_URL')
  assert.equal(code({ url: 'http://127.0.0.1/', headers: { 'x-a': 'a\r\nx-b: b' } }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', headers: { 'bad name': 'v' } }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', body: 42 }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', body: () => {} }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', timeout: -1 }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', reconnectCount: 'five' }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', onMessage: 'nope' }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', signal: {} }), 'INVALID_OPTIONS')
  assert.equal(code(undefined), 'INVALID_OPTIONS')
  const circular = {}
  circular.self = circular
  assert.equal(code({ url: 'http://127.0.0.1/', body: circular }), 'INVALID_OPTIONS')
  assert.equal(code({ url: 'http://127.0.0.1/', method: 'TRACE' }), 'no throw')
  assert.throws(() => instance.request({ url: 'http://127.0.0.1/', method: 'TRACE' }), { code: 'INVALID_OPTIONS' })
  assert.throws(() => new SSEClient({ baseUrl: 'nope' }), { code: 'INVALID_URL' })
  // The header value is not echoed (it may be a secret).
  assert.throws(
    () => instance.post({ url: 'http://127.0.0.1/', headers: { authorization: 'Bearer s3cr3t\n' } }),
    (err) => {
      assert.doesNotMatch(err.message, /s3cr3t/)
      return true
    },
  )
})

test('request() sends GET, PUT, PATCH and DELETE; GET carries no body', async () => {
  const srv = await startServer((req, res) => sse(res, `data: ${req.method}\n\n`))
  try {
    const instance = new SSEClient().create()
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE', 'POST']) {
      const req = instance.request({ url: srv.url, method, body: method === 'GET' ? undefined : { m: method } })
      await req.done
    }
    const methods = srv.requests.map((r) => r.method)
    assert.deepEqual(methods, ['GET', 'PUT', 'PATCH', 'DELETE', 'POST'])
    assert.equal(srv.requests[0].body.length, 0)
    assert.deepEqual(JSON.parse(srv.requests[1].body), { m: 'PUT' })
  } finally {
    await srv.close()
  }
})

test('baseUrl joins relative urls and client defaults apply', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  try {
    const client = new SSEClient({ baseUrl: `${srv.base}/v1/`, headers: { 'x-key': 'k' } })
    await client.create().post({ url: 'chat/completions' }).done
    assert.equal(srv.requests[0].url, '/v1/chat/completions')
    assert.equal(srv.requests[0].headers['x-key'], 'k')
  } finally {
    await srv.close()
  }
})

test('doneData ends the request cleanly and is not delivered', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    // The connection stays open after [DONE]: the client must end by itself.
    res.write('data: a\n\ndata: [DONE]\n\ndata: after\n\n')
  })
  try {
    const got = collect(new SSEClient().create(), { url: srv.url, doneData: '[DONE]' })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['a'],
    )
    assert.equal(got.closes, 1)
    await srv.idle()
  } finally {
    await srv.close()
  }
})

test('AbortSignal aborts the request, also when already aborted', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: one\n\n')
  })
  try {
    const instance = new SSEClient().create()
    const controller = new AbortController()
    const got = collect(instance, { url: srv.url, signal: controller.signal, onMessage: () => controller.abort() })
    assert.deepEqual(await got.done, { ok: true })
    assert.equal(got.req.readyState, 2)
    const pre = collect(instance, { url: srv.url, signal: AbortSignal.abort() })
    assert.deepEqual(await pre.done, { ok: true })
    assert.equal(pre.messages.length, 0)
    // AbortSignal.timeout(ms), as the README says: the open stream is aborted after 50 ms.
    const timed = collect(instance, { url: srv.url, signal: AbortSignal.timeout(50) })
    assert.deepEqual(await timed.done, { ok: true })
    assert.equal(timed.req.readyState, 2)
    assert.deepEqual(
      timed.messages.map((m) => m.data),
      ['one'],
    )
    assert.equal(timed.closes, 0)
    await srv.idle()
  } finally {
    await srv.close()
  }
})

test('a callback that throws aborts the request and reaches onError as CALLBACK_THREW', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\ndata: 2\n\n')
  })
  try {
    const boom = new Error('boom')
    const got = collect(new SSEClient().create(), {
      url: srv.url,
      onMessage: () => {
        throw boom
      },
    })
    const { ok, error } = await got.done
    assert.equal(ok, false)
    assert.equal(error.code, 'CALLBACK_THREW')
    assert.equal(error.cause, boom)
    assert.deepEqual(got.errors, [error])
    await srv.idle()
  } finally {
    await srv.close()
  }
})

test('lastEventId is sent as Last-Event-ID on the first attempt', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: resumed\n\n'))
  try {
    const got = collect(new SSEClient().create(), { url: srv.url, lastEventId: 'evt-41' })
    assert.deepEqual(await got.done, { ok: true })
    assert.equal(srv.requests[0].headers['last-event-id'], 'evt-41')
    // No id came back, so the id in force is still the one given, in messages and on the handle.
    assert.equal(got.messages[0].id, 'evt-41')
    assert.equal(got.req.lastEventId, 'evt-41')
  } finally {
    await srv.close()
  }
})
