// What a burst of streams leaves behind (issue 10): idle connections in the pool, and OS threads
// for DNS lookups. Counted on the server's side (its sockets) and in /proc/self/task.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { startServer, collect } from '../helpers/server.mjs'

/** Waits until `sockets` (the server's open connections) holds at most `max`, on close events. */
async function socketsAtMost(sockets, max) {
  while (sockets.size > max) await Promise.race([...sockets].map((socket) => once(socket, 'close')))
}

/** A server whose /hold streams stay open until `release()`, once `n` of them have arrived. */
async function holdingServer(n) {
  let arrived
  const allArrived = new Promise((resolve) => (arrived = resolve))
  let release
  const released = new Promise((resolve) => (release = resolve))
  let count = 0
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: open\n\n')
    if (++count === n) arrived()
    await released
    res.end('data: bye\n\n')
  })
  // Node closes idle keep-alive connections after 5 s by default: only the client may close them here.
  srv.server.keepAliveTimeout = 60000
  const sockets = new Set()
  const stats = { connections: 0 }
  srv.server.on('connection', (socket) => {
    stats.connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  return { srv, sockets, stats, allArrived, release }
}

test(
  'after 40 concurrent streams end, the client keeps at most 8 idle connections to the host',
  { timeout: 15000 },
  async () => {
    // The pool's idle timeout is 30 s: without the cap, all 40 would still be open when this times out.
    const { srv, sockets, stats, allArrived, release } = await holdingServer(40)
    try {
      const sse = new SSEClient().create()
      const streams = []
      for (let i = 0; i < 40; i++) streams.push(collect(sse, { url: `${srv.base}/hold` }))
      await allArrived
      assert.equal(sockets.size, 40)
      release()
      const results = await Promise.all(streams.map((s) => s.done))
      assert.ok(results.every((r) => r.ok))
      await socketsAtMost(sockets, 8)
      assert.ok(sockets.size <= 8)
      // The idle ones are still used: the next request takes one instead of connecting.
      const again = collect(sse, { url: `${srv.base}/one`, reconnectCount: 0 })
      assert.deepEqual(await again.done, { ok: true })
      assert.equal(stats.connections, 40)
    } finally {
      await srv.close()
    }
  },
)

const threads = () => readdirSync('/proc/self/task').length

test('200 concurrent streams to a host name start at most a few extra threads for DNS', async (t) => {
  if (!existsSync('/proc/self/task')) return t.skip('needs /proc/self/task (Linux) to count threads')
  const { srv, allArrived, release } = await holdingServer(201)
  try {
    const sse = new SSEClient().create()
    const url = `http://localhost:${srv.server.address().port}/hold`
    // Warm-up: the runtime's worker threads exist before the baseline.
    const first = collect(sse, { url })
    while (first.messages.length === 0 && first.errors.length === 0) await new Promise((r) => setImmediate(r))
    assert.deepEqual(first.errors, [])
    const baseline = threads()
    let peak = baseline
    const streams = []
    for (let i = 0; i < 200; i++) {
      streams.push(collect(sse, { url }))
      if (i % 10 === 0) await new Promise((r) => setImmediate(r))
      peak = Math.max(peak, threads())
    }
    // Sample while the lookups and connects of the burst are in flight, until every stream is open.
    let open = false
    allArrived.then(() => (open = true))
    while (!open) {
      peak = Math.max(peak, threads())
      await new Promise((r) => setImmediate(r))
    }
    release()
    const results = await Promise.all([first, ...streams].map((s) => s.done))
    assert.ok(results.every((r) => r.ok))
    assert.ok(peak - baseline <= 6, `threads grew from ${baseline} to ${peak}`)
  } finally {
    await srv.close()
  }
})
