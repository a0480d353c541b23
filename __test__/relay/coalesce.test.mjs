// relay(res, { coalesce }): the events that arrive within the window after a write go out in one
// write at its end; the first event of a burst is never held back; end() sends what is held.
// The writer's windows are driven by node:test's mock timers (no sleeps); the relay end to end
// against real servers.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { createRequire } from 'node:module'
import { SSEClient } from '../../index.mjs'
import { startServer } from '../helpers/server.mjs'
import { downstream, startHttp, signal } from '../helpers/relay.mjs'

const require = createRequire(import.meta.url)
const { createResponseWriter } = require('../../lib/relay/node-writer.js')

/** A ServerResponse stand-in that records its writes; `full` makes write() report a full buffer. */
function fakeResponse() {
  const res = new EventEmitter()
  res.writes = []
  res.ended = null
  res.full = false
  res.write = (text) => {
    res.writes.push(text)
    return !res.full
  }
  res.end = (text) => {
    res.ended = text ?? ''
  }
  return res
}

test('with coalesce, the first write goes out at once and the rest of the window in one write', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const res = fakeResponse()
  const writer = createResponseWriter(res, { interval: 0, coalesce: 16, onClose() {} })
  assert.equal(writer.write('data: 1\n\n'), true)
  assert.deepEqual(res.writes, ['data: 1\n\n'])
  writer.write('data: 2\n\n')
  writer.write('data: 3\n\n')
  assert.deepEqual(res.writes, ['data: 1\n\n'])
  t.mock.timers.tick(15)
  assert.equal(res.writes.length, 1)
  t.mock.timers.tick(1)
  assert.deepEqual(res.writes, ['data: 1\n\n', 'data: 2\n\ndata: 3\n\n'])
  // The window stays open after a write; an empty window closes it.
  writer.write('data: 4\n\n')
  assert.equal(res.writes.length, 2)
  t.mock.timers.tick(16)
  assert.deepEqual(res.writes.at(-1), 'data: 4\n\n')
  t.mock.timers.tick(16)
  // Quiet for a whole window: the next write is the first of a new burst, at once.
  writer.write('data: 5\n\n')
  assert.deepEqual(res.writes.at(-1), 'data: 5\n\n')
  assert.equal(res.writes.length, 4)
})

test('without coalesce every write goes out at once', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const res = fakeResponse()
  const writer = createResponseWriter(res, { interval: 0, onClose() {} })
  for (const n of [1, 2, 3]) writer.write(`data: ${n}\n\n`)
  assert.equal(res.writes.length, 3)
})

test('end() sends what the window holds, before the terminal text, in one call', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const res = fakeResponse()
  const writer = createResponseWriter(res, { interval: 0, coalesce: 50, onClose() {} })
  writer.write('data: 1\n\n')
  writer.write('data: 2\n\n')
  writer.end('event: end\ndata: \n\n')
  assert.equal(res.ended, 'data: 2\n\nevent: end\ndata: \n\n')
  t.mock.timers.tick(100)
  assert.deepEqual(res.writes, ['data: 1\n\n'])
})

test('a held write reports the full buffer of the last flush, so the relay pauses', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] })
  const res = fakeResponse()
  const writer = createResponseWriter(res, { interval: 0, coalesce: 16, onClose() {} })
  writer.write('data: 1\n\n')
  writer.write('data: 2\n\n')
  res.full = true
  t.mock.timers.tick(16)
  assert.equal(writer.write('data: 3\n\n'), false)
  let drained = false
  writer.drained().then(() => (drained = true))
  res.emit('drain')
  return Promise.resolve().then(() => assert.equal(drained, true))
})

test('relay() with coalesce delivers every event and the end, without waiting out a long window', async () => {
  const next = [signal(), signal()]
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: first\n\n')
    await next[0].promise
    res.write('data: second\n\n')
    res.write('data: third\n\n')
    await next[1].promise
    res.end('data: last\n\n')
  })
  const sse = new SSEClient().create()
  const handles = []
  const relaySrv = await startHttp((req, res) => {
    handles.push(sse.relay(res, { url: upstream.url, coalesce: 1000, heartbeat: false }))
  })
  try {
    const client = downstream(relaySrv.url)
    // The first event is not held back by the 1 s window.
    await client.until((c) => c.events.length === 1)
    next[0].resolve()
    // The upstream's end flushes what the window holds, at once.
    next[1].resolve()
    await client.until((c) => c.ended)
    assert.deepEqual(
      client.events.map((e) => e.data),
      ['first', 'second', 'third', 'last'],
    )
    assert.equal(await handles[0].done, 'end')
  } finally {
    await relaySrv.close()
    await upstream.close()
  }
})

test('a bad coalesce throws before any header is sent', () => {
  const sse = new SSEClient().create()
  const res = fakeResponse()
  for (const value of [-1, '16', 5000, Number.NaN]) {
    assert.throws(() => sse.relay(res, { url: 'http://127.0.0.1:1/', coalesce: value }), /coalesce must be a number/)
  }
  assert.deepEqual(res.writes, [])
})
