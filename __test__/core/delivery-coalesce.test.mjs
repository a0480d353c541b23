// `coalesce` on a request: the events that arrive within the window after a delivery to JS reach JS
// together, in one delivery at the window's end; the first event after a quiet period is not held
// back. One delivery is one run of callbacks with no microtask checkpoint in between, which is what
// `deliveries()` tells apart.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { deliveries } from '../helpers/deliveries.mjs'
import { startServer, delay } from '../helpers/server.mjs'

/**
 * A server that sends event 1, waits until the test saw it, then sends 2..5 in four writes 10 ms
 * apart (four network reads) and keeps the stream open.
 */
async function paced() {
  let seen
  const firstSeen = new Promise((resolve) => (seen = resolve))
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\n')
    await firstSeen
    for (let i = 2; i <= 5; i++) {
      await delay(10)
      res.write(`data: ${i}\n\n`)
    }
  })
  return { srv, seen }
}

test('with coalesce, the events within the window after a delivery arrive in one delivery', async () => {
  const { srv, seen } = await paced()
  const sse = new SSEClient().create()
  const got = deliveries()
  let all
  const five = new Promise((resolve) => (all = resolve))
  const req = sse.post({
    url: srv.url,
    coalesce: 1000,
    onMessage: ({ data }) => {
      got.add(data)
      if (data === '1') seen()
      if (data === '5') all()
    },
  })
  try {
    // Nothing follows event 5 on this open stream: only the window's end can deliver 2..5.
    await five
    assert.deepEqual(got.groups, [['1'], ['2', '3', '4', '5']])
  } finally {
    req.abort()
    await srv.close()
  }
})

test('with coalesce, the end of a request is delivered at once with the events held before it', async () => {
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: 1\n\n')
    await delay(10)
    res.end('data: 2\n\n')
  })
  try {
    const sse = new SSEClient().create()
    const got = deliveries()
    const started = performance.now()
    const req = sse.post({
      url: srv.url,
      coalesce: 1000,
      onMessage: ({ data }) => got.add(data),
      onClose: () => got.add('close'),
    })
    assert.equal(await req.done, 'end')
    // Held, event 2 and the end would be delivered a full window after event 1.
    assert.ok(performance.now() - started < 1000)
    assert.deepEqual(got.groups.flat(), ['1', '2', 'close'])
  } finally {
    await srv.close()
  }
})

test('coalesce must be a number of ms from 0 to 1000', () => {
  const sse = new SSEClient().create()
  for (const coalesce of [-1, 1001, Number.NaN]) {
    assert.throws(
      () => sse.post({ url: 'http://127.0.0.1:1/', coalesce }),
      (err) => err.code === 'INVALID_OPTIONS' && /coalesce/.test(err.message) && err.message.includes(String(coalesce)),
    )
  }
  assert.throws(
    () => sse.post({ url: 'http://127.0.0.1:1/', coalesce: '16' }),
    (err) => err.code === 'INVALID_OPTIONS' && err.message === 'coalesce must be a number, got string',
  )
})
