// What users pass in: bodies of every binary and form type, headers as Headers/Map/entries (own
// properties only), options whose getters or signals throw, fake timers. Nothing a user passes may
// leave a request behind or break other requests. (Issue 10, the JS-side items.)
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import {
  startServer,
  startRawServer,
  sse,
  startRoutes,
  settle,
  closeSentinel,
  SSE_HEAD,
  startFlood,
} from '../helpers/server.mjs'
import { runModule, runNode } from '../helpers/child.mjs'

after(closeSentinel)

const echo = () => startServer((req, res) => sse(res, 'data: ok\n\n'))

test('binary bodies of every kind are sent as their bytes, URLSearchParams as a form', async () => {
  const srv = await echo()
  try {
    const instance = new SSEClient().create()
    const bytes = Uint8Array.from([0, 1, 2, 250, 255])
    const bodies = [
      bytes.buffer.slice(0),
      new DataView(bytes.buffer.slice(0)),
      new Uint16Array(Uint8Array.from([0, 1, 2, 250]).buffer),
      Buffer.from(bytes),
    ]
    for (const body of bodies) await instance.post({ url: srv.url, body }).done
    const params = new URLSearchParams({ q: 'a b', n: '1' })
    await instance.post({ url: srv.url, body: params }).done
    assert.deepEqual([...srv.requests[0].body], [0, 1, 2, 250, 255])
    assert.deepEqual([...srv.requests[1].body], [0, 1, 2, 250, 255])
    assert.deepEqual([...srv.requests[2].body], [0, 1, 2, 250])
    assert.deepEqual([...srv.requests[3].body], [0, 1, 2, 250, 255])
    assert.equal(srv.requests[4].body.toString(), 'q=a+b&n=1')
    assert.equal(srv.requests[4].headers['content-type'], 'application/x-www-form-urlencoded;charset=UTF-8')
  } finally {
    await srv.close()
  }
})

test('bodies that JSON would send as {} (Map, Set) are refused with INVALID_OPTIONS', () => {
  const instance = new SSEClient().create()
  for (const body of [new Map([['a', 1]]), new Set([1])]) {
    assert.throws(() => instance.post({ url: 'http://127.0.0.1:9/', body }), {
      code: 'INVALID_OPTIONS',
      name: 'SseError',
    })
  }
})

test('headers as Headers, Map or entries are sent; inherited properties of an object are not', async () => {
  const srv = await echo()
  try {
    const instance = new SSEClient().create()
    await instance.post({ url: srv.url, headers: new Headers({ 'x-a': '1' }) }).done
    await instance.post({ url: srv.url, headers: new Map([['x-b', '2']]) }).done
    await instance.post({ url: srv.url, headers: [['x-c', '3']] }).done
    const inherited = Object.create({ 'x-inherited': 'no' })
    inherited['x-own'] = 'yes'
    await instance.post({ url: srv.url, headers: inherited }).done
    assert.equal(srv.requests[0].headers['x-a'], '1')
    assert.equal(srv.requests[1].headers['x-b'], '2')
    assert.equal(srv.requests[2].headers['x-c'], '3')
    assert.equal(srv.requests[3].headers['x-own'], 'yes')
    assert.equal(srv.requests[3].headers['x-inherited'], undefined)
    assert.throws(() => instance.post({ url: srv.url, headers: new Map([['x', 1]]) }), { code: 'INVALID_OPTIONS' })
  } finally {
    await srv.close()
  }
})

test('an option getter or Proxy trap that throws is INVALID_OPTIONS and starts nothing', async () => {
  const srv = await echo()
  try {
    const instance = new SSEClient().create()
    const options = new Proxy(
      { url: srv.url },
      {
        get(target, key) {
          if (key === 'timeout') throw new Error('trap')
          return target[key]
        },
      },
    )
    assert.throws(() => instance.post(options), {
      code: 'INVALID_OPTIONS',
      message: /cannot read option timeout: trap/,
    })
    assert.throws(
      () =>
        new SSEClient({
          get timeout() {
            throw new Error('getter')
          },
        }),
      { code: 'INVALID_OPTIONS' },
    )
    await settle(new SSEClient())
    assert.equal(srv.requests.length, 0)
  } finally {
    await srv.close()
  }
})

test('a signal whose addEventListener throws makes post() throw and leaves nothing running', async () => {
  // In a child: the process must exit by itself, which it cannot while a request is registered.
  const srv = await startRoutes()
  try {
    const url = srv.route('/stalled')
    const { code, signal, out } = await runModule(
      `import { SSEClient } from './index.mjs'
       const signal = { aborted: false, addEventListener() { throw new Error('nope') }, removeEventListener() {} }
       try { new SSEClient().create().post({ url: ${JSON.stringify(url)}, signal }) } catch (e) { console.log(e.code, e.message) }`,
    )
    assert.equal(signal, null, out)
    assert.equal(code, 0, out)
    assert.match(out, /INVALID_OPTIONS signal cannot be listened to: nope/)
  } finally {
    await srv.close()
  }
})

test('a signal whose removeEventListener throws does not break the batch of other requests', async () => {
  const srv = await startRoutes()
  try {
    const instance = new SSEClient().create()
    const signal = {
      aborted: false,
      addEventListener() {},
      removeEventListener: () => {
        throw new Error('nope')
      },
    }
    let others = 0
    const bad = instance.post({ url: srv.route('/batch?n=2'), signal })
    const good = instance.post({ url: srv.route('/batch?n=20'), onMessage: () => others++ })
    assert.equal(await bad.done, 'end')
    assert.equal(await good.done, 'end')
    assert.equal(others, 20)
  } finally {
    await srv.close()
  }
})

test('fake timers installed after the module loaded do not replace its keep-alive timer', async () => {
  const srv = await startRoutes()
  try {
    const url = srv.route('/batch?n=1')
    const { code, signal, out } = await runModule(
      `import { SSEClient } from './index.mjs'
       const real = globalThis.setInterval
       globalThis.setInterval = () => { throw new Error('fake setInterval called') }
       const req = new SSEClient().create().post({ url: ${JSON.stringify(url)} })
       console.log(await req.done)
       globalThis.setInterval = real`,
    )
    assert.equal(signal, null, out)
    assert.equal(code, 0, out)
    assert.match(out, /^end$/m)
  } finally {
    await srv.close()
  }
})

test('a header sent twice reaches onOpen with both values', async () => {
  const srv = await startServer((req, res) => {
    res.setHeader('set-cookie', ['a=1', 'b=2'])
    res.setHeader('x-twice', ['one', 'two'])
    sse(res, 'data: ok\n\n')
  })
  try {
    let headers
    await new SSEClient().create().post({ url: srv.url, onOpen: (info) => (headers = info.headers) }).done
    assert.equal(headers['set-cookie'], 'a=1, b=2')
    assert.equal(headers['x-twice'], 'one, two')
  } finally {
    await srv.close()
  }
})

test('stream(): an unread iterator of 1 MiB events holds a bounded number of bytes, not 1,024 events', async () => {
  const total = 64
  const payload = 'x'.repeat(1 << 20)
  const srv = await startFlood({ total, payload })
  const { flood } = srv
  try {
    const stream = new SSEClient().create().stream({ url: srv.url, timeout: 0, maxEventSize: 2 << 20 })
    const iterator = stream[Symbol.asyncIterator]()
    assert.equal((await iterator.next()).value.id, '0')
    // The server blocks once the socket buffers, the native batch and the paused queue are full.
    const deadline = Date.now() + 10_000
    let last = -1
    while (flood.written !== last && Date.now() < deadline) {
      last = flood.written
      await new Promise((resolve) => setTimeout(resolve, 300))
    }
    assert.equal(flood.finished, false, `the server wrote all ${flood.written} MiB while the loop was not reading`)
    // Socket buffers (kernel autotuning: several MiB each way), hyper's read buffer and the 4 MiB hub
    // hold what was written; before the byte bound the queue took all 64 (1,024 messages).
    assert.ok(flood.written < 48, `the server got ${flood.written} MiB out while nothing was read`)
    let count = 1
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) count++
    assert.equal(count, total)
  } finally {
    await srv.close()
  }
})

test('a Blob body is read before the request starts and sent with its type; post() still returns at once', async () => {
  const srv = await echo()
  try {
    const instance = new SSEClient().create()
    const req = instance.post({
      url: srv.url,
      body: new Blob(['héllo ', Uint8Array.from([0, 255])], { type: 'text/x-test' }),
    })
    assert.equal(typeof req.abort, 'function')
    assert.equal(req.readyState, 0)
    assert.equal(await req.done, 'end')
    assert.deepEqual([...srv.requests[0].body], [...Buffer.from('héllo '), 0, 255])
    assert.equal(srv.requests[0].headers['content-type'], 'text/x-test')
    // An untyped Blob sends no content-type of its own.
    await instance.post({ url: srv.url, body: new Blob(['x']) }).done
    assert.equal(srv.requests[1].headers['content-type'], undefined)
    // Aborted while the Blob is being read: done resolves 'abort' and no request is made.
    const early = instance.post({ url: srv.url, body: new Blob(['never']) })
    early.abort()
    assert.equal(await early.done, 'abort')
    await instance.post({ url: srv.url, body: 'after' }).done
    assert.deepEqual(
      srv.requests.slice(1).map((r) => r.body.toString()),
      ['x', 'after'],
    )
  } finally {
    await srv.close()
  }
})

test('a FormData body is sent as multipart/form-data, as fetch sends it', async () => {
  const srv = await echo()
  try {
    const form = new FormData()
    form.append('name', 'andy')
    form.append('file', new Blob(['file body'], { type: 'text/plain' }), 'a.txt')
    await new SSEClient().create().post({ url: srv.url, body: form }).done
    const { headers, body } = srv.requests[0]
    assert.match(headers['content-type'], /^multipart\/form-data; boundary=/)
    const parsed = await new Response(body, { headers: { 'content-type': headers['content-type'] } }).formData()
    assert.equal(parsed.get('name'), 'andy')
    const file = parsed.get('file')
    assert.equal(file.name, 'a.txt')
    assert.equal(await file.text(), 'file body')
  } finally {
    await srv.close()
  }
})

// http::Uri (and hyper's request line) hold at most u16::MAX - 1 bytes: the serialized URL.
const MAX_URL = 65534

test('a URL longer than the HTTP stack can carry is refused synchronously with INVALID_URL; one at the limit is sent', async () => {
  let seen = null
  const srv = await startRawServer((socket, head) => {
    seen = head.slice(0, head.indexOf('\r\n'))
    socket.end(`${SSE_HEAD}data: ok\n\n`)
  })
  try {
    const instance = new SSEClient().create()
    const base = srv.url.replace('/sse', '/')
    const atLimit = base + 'a'.repeat(MAX_URL - base.length)
    assert.equal(atLimit.length, MAX_URL)
    assert.equal(await instance.post({ url: atLimit, reconnectCount: 0 }).done, 'end')
    assert.equal(seen.length, 'POST '.length + MAX_URL - base.length + 1 + ' HTTP/1.1'.length)
    for (const url of [atLimit + 'a', base + 'a'.repeat(70000)]) {
      assert.throws(
        () => instance.post({ url }),
        (err) => {
          assert.equal(err.code, 'INVALID_URL')
          assert.match(err.message, /65534/)
          return true
        },
      )
    }
  } finally {
    await srv.close()
  }
})

test('mocked timers enabled before the module loads and reset mid-stream do not let the process exit', async () => {
  let release
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: one\n\n')
    // The child has nothing but the open request to keep it alive while it waits for this.
    await new Promise((resolve) => {
      release = resolve
      setTimeout(resolve, 400)
    })
    res.end('data: two\n\n')
  })
  try {
    const { code, signal, out } = await runNode([
      '--no-warnings',
      '--input-type=module',
      '-e',
      `import { mock } from 'node:test'
       mock.timers.enable({ apis: ['setInterval', 'setTimeout'] })
       const { SSEClient } = await import('./index.mjs')
       const req = new SSEClient().create().post({
         url: process.argv[1],
         onMessage: ({ data }) => {
           console.log(data)
           if (data === 'one') mock.timers.reset()
         },
       })
       console.log(await req.done)`,
      srv.url,
    ])
    release?.()
    assert.equal(signal, null, out)
    assert.equal(code, 0, out)
    assert.equal(out, 'one\ntwo\nend\n')
  } finally {
    await srv.close()
  }
})
