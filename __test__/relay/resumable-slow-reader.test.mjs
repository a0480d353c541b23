// A reader that never reads its socket does not hold back the producer or the other readers of the
// same generation: each reader has its own cursor in the log, and back-pressure pauses only its own
// reading of the log. In process, on the in-memory store and on a real redis-server.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { redisSkip, startRedis } from '../helpers/redis.mjs'
import { startServer } from '../helpers/server.mjs'

// 400 events of 32 KiB: about 13 MB, far more than the socket buffers of a stalled reader hold.
const COUNT = 400
const PAYLOAD = 'x'.repeat(32 * 1024)

/**
 * An upstream that sends its first event, then waits for `release()` before sending the rest as
 * fast as the socket takes them.
 */
async function startGatedUpstream() {
  let release
  const released = new Promise((resolve) => (release = resolve))
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write(`data: 0 ${PAYLOAD}\n\n`)
    await released
    for (let i = 1; i < COUNT && !res.destroyed; i++) {
      if (!res.write(`data: ${i} ${PAYLOAD}\n\n`)) await once(res, 'drain')
    }
    res.end()
  })
  return Object.assign(upstream, { release })
}

/**
 * Reads an event stream; `headers` resolves on the response, `firstEvent` on the first complete
 * event, `done` with { status, data } (the first word of each event's data) at the end. With
 * `stall` the response is never read: only the socket's and the parser's buffers take anything.
 */
function read(url, { method = 'GET', stall = false } = {}) {
  const req = http.request(url, { method })
  let onHeaders
  let onFirst
  const headers = new Promise((resolve) => (onHeaders = resolve))
  const firstEvent = new Promise((resolve) => (onFirst = resolve))
  const done = new Promise((resolve, reject) => {
    req.on('error', reject)
    req.on('response', (res) => {
      onHeaders(res.statusCode)
      if (stall) return
      const data = []
      let buffer = ''
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        buffer += chunk
        let at
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at)
          buffer = buffer.slice(at + 2)
          const line = block.split('\n').find((l) => l.startsWith('data:'))
          if (line === undefined) continue
          data.push(line.slice(6).split(' ')[0])
          onFirst()
        }
      })
      res.on('end', () => resolve({ status: res.statusCode, data }))
    })
  })
  req.end()
  return { req, headers, firstEvent, done }
}

const whole = [...Array.from({ length: COUNT }, (_, i) => String(i)), '']

for (const kind of ['memory', 'redis']) {
  test(
    `${kind}: one stalled reader of ten does not hold back the producer or the nine others`,
    { skip: kind === 'redis' ? redisSkip : false, timeout: 30_000 },
    async (t) => {
      const redis = kind === 'redis' ? await startRedis() : null
      const client = new SSEClient(redis === null ? {} : { store: redis.url })
      const sse = client.create()
      const upstream = await startGatedUpstream()
      // The server side of each reader: its response and how its resume ended.
      const served = new Map()
      const app = await startServer((req, res) => {
        const url = new URL(req.url, 'http://127.0.0.1')
        const id = url.searchParams.get('id')
        if (url.pathname === '/produce') {
          sse.relay(res, { url: upstream.url, resumable: { id }, heartbeat: false })
        } else {
          const handle = client.resume(res, { id, heartbeat: false })
          const entry = { res, ended: false, done: handle.done }
          handle.done.then(() => (entry.ended = true))
          served.set(url.searchParams.get('who'), entry)
        }
      })
      t.after(async () => {
        await client.close()
        await app.close()
        await upstream.close()
        await redis?.stop()
      })

      const id = `slow-${kind}-${process.pid}`
      const producer = read(`${app.base}/produce?id=${id}`, { method: 'POST' })
      // The log exists once the producer's first event went out.
      await producer.firstEvent
      const stalled = read(`${app.base}/resume?id=${id}&who=stalled`, { stall: true })
      const readers = Array.from({ length: 9 }, (_, i) => read(`${app.base}/resume?id=${id}&who=${i}`))
      for (const reader of [stalled, ...readers]) assert.equal(await reader.headers, 200)
      upstream.release()

      for (const reader of readers) assert.deepEqual((await reader.done).data, whole)
      assert.deepEqual((await producer.done).data, whole)
      // The stalled reader is still there, its response backed up, its resume not over.
      const slow = served.get('stalled')
      assert.equal(slow.ended, false)
      assert.equal(slow.res.writableNeedDrain, true)
      assert.equal(slow.res.destroyed, false)
      // The browser gives up: its resume ends as a downstream that went away.
      stalled.req.destroy()
      assert.equal(await slow.done, 'closed')
    },
  )
}
