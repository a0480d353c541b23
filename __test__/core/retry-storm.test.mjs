// Issue 10: `retry: 0` from a server that sends one event per connection and drops it used to give
// each attempt a fresh reconnect budget: an unbounded storm (1,329 connections in 2 s with
// reconnectCount 2). Now the budget only resets after a connection stayed healthy for 30 s, the
// server's retry is floored at 100 ms, and consecutive failures back off.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startRawServer, collect, SSE_HEAD } from '../helpers/server.mjs'

test('retry: 0 with one event per connection makes reconnectCount + 1 connections, backing off', async () => {
  const arrivals = []
  let got = null
  const srv = await startRawServer((socket) => {
    arrivals.push(performance.now())
    // Bound the old behaviour: a storm is stopped here and fails the assertions below.
    if (arrivals.length > 20) {
      got.req.abort()
      socket.destroy()
      return
    }
    socket.write(SSE_HEAD + `retry: 0\nid: ${arrivals.length}\ndata: x\n\n`)
    // A reset, not a FIN: with `connection: close` a FIN is the clean end of the body.
    setTimeout(() => socket.resetAndDestroy(), 5)
  })
  try {
    got = collect(new SSEClient().create(), {
      url: srv.url,
      reconnectCount: 2,
      reconnectAfterEvents: 'always',
      retryDelay: 1,
    })
    const { ok, error } = await got.done
    assert.equal(ok, false, 'the request fails once the budget is spent')
    assert.equal(error.code, 'NETWORK')
    assert.equal(error.attempt, 2)
    assert.equal(srv.connections, 3)
    assert.equal(got.messages.length, 3)
    assert.deepEqual(
      got.errors.map((e) => [e.attempt, e.willRetry]),
      [
        [0, true],
        [1, true],
        [2, false],
      ],
    )
    const gaps = arrivals.slice(1).map((t, i) => t - arrivals[i])
    // The floor (100 ms), then 200 ms less at most 50 % jitter; 5 ms of each gap is the server's.
    assert.ok(gaps[0] >= 95, `first reconnect after ${gaps[0].toFixed(0)} ms`)
    assert.ok(gaps[1] >= 95, `second reconnect after ${gaps[1].toFixed(0)} ms`)
  } finally {
    await srv.close()
  }
})
