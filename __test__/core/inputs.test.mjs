// What users pass in: bodies of every binary and form type, headers as Headers/Map/entries (own
// properties only), options whose getters or signals throw, fake timers. Nothing a user passes may
// leave a request behind or break other requests. (Issue 10, the JS-side items.)
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, sse, startRoutes, settle, closeSentinel, startFlood } from '../helpers/server.mjs'
import { runModule } from '../helpers/child.mjs'

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

test('bodies that JSON would send as {} (Map, Set, Blob) are refused with INVALID_OPTIONS', () => {
  const instance = new SSEClient().create()
  for (const body of [new Map([['a', 1]]), new Set([1]), new Blob(['x'])]) {
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
