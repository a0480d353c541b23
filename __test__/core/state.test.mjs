// What a callback sees is what it was handed: readyState, lastEventId and attempt describe the event
// being handled, not the reader thread's state; clear()/delete()/abortAll()/abort() called from
// inside any callback silence every request they cover, whatever is already queued; onClose fires
// once after every end but abort; `done` says how the request ended.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient, SseError, isSseError } from '../../index.mjs'
import { startRoutes, startRawServer, settle, closeSentinel, unusedPort } from '../helpers/server.mjs'

after(closeSentinel)

/** Records each callback with the handle's state at that moment. */
function observe(sse, options) {
  const seen = []
  const snap = (kind, extra) =>
    seen.push({ kind, readyState: req.readyState, lastEventId: req.lastEventId, attempt: req.attempt, ...extra })
  const req = sse.post({
    onOpen: () => snap('open'),
    onMessage: (msg) => snap('message', { id: msg.id }),
    onError: (err) => snap('error', { willRetry: err.willRetry }),
    onClose: () => snap('close'),
    ...options,
  })
  return { req, seen }
}

test('readyState is 1 in onOpen and onMessage and 2 in onClose, for a stream that arrived in one batch', async () => {
  const srv = await startRoutes()
  try {
    const { req, seen } = observe(new SSEClient().create(), { url: srv.route('/batch?n=5&ids=1') })
    assert.equal(await req.done, 'end')
    assert.deepEqual(
      seen.map((s) => [s.kind, s.readyState]),
      [['open', 1], ...Array(5).fill(['message', 1]), ['close', 2]],
    )
  } finally {
    await srv.close()
  }
})

test('lastEventId equals msg.id in every onMessage, and an id-only block at the end reaches it', async () => {
  const srv = await startRoutes()
  try {
    const { req, seen } = observe(new SSEClient().create(), { url: srv.route('/batch?n=4&ids=1&tail=last') })
    await req.done
    const messages = seen.filter((s) => s.kind === 'message')
    assert.deepEqual(
      messages.map((s) => [s.id, s.lastEventId]),
      [
        ['0', '0'],
        ['1', '1'],
        ['2', '2'],
        ['3', '3'],
      ],
    )
    assert.equal(seen.at(-1).lastEventId, 'last')
    assert.equal(req.lastEventId, 'last')
  } finally {
    await srv.close()
  }
})

test('readyState is 0 in a retried onError and in nothing else before the reconnect opens', async () => {
  let attempts = 0
  const srv = await startRawServer((socket) => {
    attempts++
    if (attempts === 1) return socket.destroy()
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\ndata: ok\n\n')
  })
  try {
    const { req, seen } = observe(new SSEClient().create(), { url: srv.url, retryDelay: 1 })
    assert.equal(await req.done, 'end')
    assert.deepEqual(
      seen.map((s) => [s.kind, s.readyState, s.attempt]),
      [
        ['error', 0, 0],
        ['open', 1, 1],
        ['message', 1, 1],
        ['close', 2, 1],
      ],
    )
    assert.equal(seen[0].willRetry, true)
  } finally {
    await srv.close()
  }
})

const failures = [
  ['HTTP_STATUS', '/status/500', {}],
  ['BAD_CONTENT_TYPE', '/html', {}],
  ['TIMEOUT', '/stalled', { timeout: 100, reconnectCount: 0 }],
  ['NETWORK', '/reset', { reconnectCount: 0 }],
  ['EVENT_TOO_LARGE', '/batch?n=1', { maxEventSize: 1 }],
]
for (const [code, route, options] of failures) {
  test(`after a final ${code}, onError then onClose fire once each, readyState 2 in both, done rejects`, async () => {
    const srv = await startRoutes()
    try {
      const { req, seen } = observe(new SSEClient().create(), { url: srv.route(route), ...options })
      const err = await req.done.then(
        () => assert.fail('done resolved'),
        (e) => e,
      )
      assert.equal(err.code, code)
      assert.ok(err instanceof SseError && isSseError(err))
      const ends = seen.filter((s) => s.kind !== 'open' && s.kind !== 'message')
      assert.deepEqual(
        ends.map((s) => [s.kind, s.readyState, s.willRetry]),
        [
          ['error', 2, false],
          ['close', 2, undefined],
        ],
      )
      await settle(new SSEClient())
      assert.equal(seen.filter((s) => s.kind === 'close').length, 1)
    } finally {
      await srv.close()
    }
  })
}

test('NETWORK to a closed port ends with onError then onClose', async () => {
  const port = await unusedPort()
  const { req, seen } = observe(new SSEClient().create(), { url: `http://127.0.0.1:${port}/`, reconnectCount: 0 })
  await assert.rejects(req.done, { code: 'NETWORK' })
  assert.deepEqual(
    seen.map((s) => s.kind),
    ['error', 'close'],
  )
})

test('a callback that throws fails the request with CALLBACK_THREW: onError, onClose, done rejects', async () => {
  const srv = await startRoutes()
  try {
    const boom = new Error('boom')
    const kinds = []
    const req = new SSEClient().create().post({
      url: srv.route('/batch?n=5'),
      onMessage: () => {
        kinds.push('message')
        throw boom
      },
      onError: (err) => kinds.push(`error ${err.code} ${req.readyState}`),
      onClose: () => kinds.push('close'),
    })
    const err = await req.done.then(assert.fail, (e) => e)
    assert.equal(err.code, 'CALLBACK_THREW')
    assert.equal(err.cause, boom)
    await settle(new SSEClient())
    assert.deepEqual(kinds, ['message', 'error CALLBACK_THREW 2', 'close'])
  } finally {
    await srv.close()
  }
})

test('HTTP 204 ends the request like every other end: onClose once, done resolves with end, no reconnect', async () => {
  const srv = await startRoutes()
  try {
    const { req, seen } = observe(new SSEClient().create(), { url: srv.route('/status/204') })
    assert.equal(await req.done, 'end')
    assert.deepEqual(
      seen.map((s) => s.kind),
      ['open', 'close'],
    )
    assert.equal(srv.requests.length, 1)
  } finally {
    await srv.close()
  }
})

test('done resolves with end, done or abort, for a clean end, doneData, abort(), signal and AbortSignal.timeout()', async () => {
  const srv = await startRoutes()
  try {
    const sse = new SSEClient().create()
    assert.equal(await sse.post({ url: srv.route('/batch?n=2') }).done, 'end')
    assert.equal(await sse.post({ url: srv.route('/done?n=2'), doneData: '[DONE]' }).done, 'done')
    const aborted = sse.post({ url: srv.route('/stalled') })
    aborted.abort()
    assert.equal(await aborted.done, 'abort')
    const controller = new AbortController()
    const signalled = sse.post({ url: srv.route('/stalled'), signal: controller.signal })
    controller.abort()
    assert.equal(await signalled.done, 'abort')
    assert.equal(await sse.post({ url: srv.route('/stalled'), signal: AbortSignal.timeout(50) }).done, 'abort')
    assert.equal(await sse.stream({ url: srv.route('/done?n=1'), doneData: '[DONE]' }).done, 'done')
  } finally {
    await srv.close()
  }
})

// Each way to stop, called from inside each callback, on a stream whose 50 events and end arrive in
// one write (so they are queued natively before the first callback runs).
const stoppers = {
  abort: (ctx) => ctx.req.abort(),
  abortAll: (ctx) => ctx.sse.abortAll(),
  delete: (ctx) => ctx.client.delete(ctx.sse),
  clear: (ctx) => ctx.client.clear(),
}
for (const [how, stop] of Object.entries(stoppers)) {
  for (const where of ['onOpen', 'onMessage']) {
    test(`${how}() inside the first ${where} silences every covered request, other instances go on`, async () => {
      const srv = await startRoutes()
      try {
        const client = new SSEClient()
        const sse = client.create()
        const other = new SSEClient().create()
        const ctx = { client, sse }
        let after = 0
        let stopped = false
        const guard = (name) => () => {
          if (stopped) after++
          else if (name === where) {
            stop(ctx)
            stopped = true
          }
        }
        const callbacks = {
          onOpen: guard('onOpen'),
          onMessage: guard('onMessage'),
          onError: guard('onError'),
          onClose: guard('onClose'),
        }
        ctx.req = sse.post({ url: srv.route('/batch?n=50'), ...callbacks })
        // A second, open request of the same instance: covered too (except by abort()).
        let siblingAfter = 0
        const sibling = sse.post({
          url: srv.route('/stalled'),
          onMessage: () => stopped && how !== 'abort' && siblingAfter++,
          onClose: () => stopped && how !== 'abort' && siblingAfter++,
        })
        let otherMessages = 0
        const untouched = other.post({ url: srv.route('/batch?n=50'), onMessage: () => otherMessages++ })
        assert.equal(await ctx.req.done, 'abort')
        if (how !== 'abort') assert.equal(await sibling.done, 'abort')
        else sibling.abort()
        assert.equal(await untouched.done, 'end')
        await settle(new SSEClient())
        assert.equal(after, 0)
        assert.equal(siblingAfter, 0)
        assert.equal(otherMessages, 50)
        assert.equal(ctx.req.readyState, 2)
      } finally {
        await srv.close()
      }
    })
  }
}

test('clear() inside onClose of one request silences the rest of the batch of the others', async () => {
  const srv = await startRoutes()
  try {
    const client = new SSEClient()
    const sse = client.create()
    let afterClear = 0
    let cleared = false
    const onMessage = () => cleared && afterClear++
    const first = sse.post({ url: srv.route('/batch?n=1'), onClose: () => ((cleared = true), client.clear()) })
    const second = sse.post({ url: srv.route('/stalled'), onMessage, onClose: onMessage })
    assert.equal(await first.done, 'end')
    assert.equal(await second.done, 'abort')
    await settle(new SSEClient())
    assert.equal(afterClear, 0)
  } finally {
    await srv.close()
  }
})

test("get() and delete() take only this client's whole-number ids", () => {
  const a = new SSEClient()
  const b = new SSEClient()
  const one = a.create()
  const other = b.create()
  assert.equal(one.id, 1)
  assert.equal(other.id, 1)
  assert.equal(a.get(2 ** 32 + 1), null)
  assert.equal(a.get(1.5), null)
  assert.equal(a.get(-1), null)
  assert.equal(a.get(1), one)
  assert.equal(a.delete(other), false, "an instance of another client is not this client's")
  assert.equal(a.size, 1)
  assert.equal(a.delete(2 ** 32 + 1), false)
  assert.equal(a.delete(one), true)
  assert.equal(a.size, 0)
  assert.equal(b.size, 1)
})
