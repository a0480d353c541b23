// Resuming: how fast a browser that reconnects gets its answer back, and that it gets it exactly.
//
//   node bench/resume.mjs [--events 2000] [--resumes 1000] [--concurrency 10] [--store redis|memory]
//
// A local upstream streams `events` OpenAI-chunk-sized events at full speed; one relay (in this
// process, `relay(res, { resumable: { id } })`) logs them to a redis-server started here on a free
// loopback port (or to the in-process store). Once the generation has ended, `resumes` readers
// resume it through `client.resume(res, { id })` with a Last-Event-ID at a random point (seeded),
// `concurrency` at a time. Reported: time from sending the resume request to its first byte
// (p50/p99), to its last byte (p50/p99), and the events each reader got compared with exactly the
// ones after its cut: duplicates and gaps (both must be 0).
import { once } from 'node:events'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { parseArgs } from 'node:util'
import { SSEClient } from '../index.mjs'
import { startRedis } from '../__test__/helpers/redis.mjs'

const { values: a } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    resumes: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '10' },
    store: { type: 'string', default: 'redis' },
    seed: { type: 'string', default: '1' },
  },
})
const EVENTS = Number(a.events)
const RESUMES = Number(a.resumes)

const chunk = (i) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    choices: [{ index: 0, delta: { content: ` t${i}` } }],
  })

const upstream = http.createServer((req, res) => {
  req.resume()
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  let text = ''
  for (let i = 0; i < EVENTS; i++) text += `data: ${chunk(i)}\n\n`
  res.end(text)
})
upstream.listen(0, '127.0.0.1')
await once(upstream, 'listening')

const redis = a.store === 'redis' ? await startRedis() : null
const client = new SSEClient(redis ? { store: redis.url } : undefined)
const sse = client.create()
const id = `bench-resume-${process.pid}`
const relay = http.createServer((req, res) => {
  if (req.method === 'POST') {
    sse.relay(res, { url: `http://127.0.0.1:${upstream.address().port}/`, resumable: { id }, heartbeat: false })
  } else {
    client.resume(res, { id, heartbeat: false })
  }
})
relay.listen(0, '127.0.0.1')
await once(relay, 'listening')
const base = `http://127.0.0.1:${relay.address().port}/`

/** Reads a stream; resolves with [{ id, data }] of its message events and first/last byte times. */
function read(method, headers = {}) {
  return new Promise((resolve, reject) => {
    const sent = performance.now()
    let first = 0
    let buffer = ''
    const events = []
    const req = http.request(base, { method, headers, agent: false }, (res) => {
      res.setEncoding('utf8')
      res.on('data', (d) => {
        if (first === 0) first = performance.now() - sent
        buffer += d
        let at
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at)
          buffer = buffer.slice(at + 2)
          if (block.startsWith('event:')) continue
          const idLine = /^id: (.*)$/m.exec(block)
          const data = /^data: (.*)$/m.exec(block)
          if (data) events.push({ id: idLine?.[1], data: data[1] })
        }
      })
      res.on('end', () => resolve({ events, first, last: performance.now() - sent }))
    })
    req.on('error', reject)
    req.end()
  })
}

const produced = await read('POST')
if (produced.events.length !== EVENTS) throw new Error(`produced ${produced.events.length} of ${EVENTS} events`)

let s = Number(a.seed) >>> 0 || 1
const random = () => {
  s ^= s << 13
  s ^= s >>> 17
  s ^= s << 5
  return (s >>> 0) / 0x100000000
}
const firsts = []
const lasts = []
let duplicates = 0
let gaps = 0
let next = 0
async function worker() {
  while (next < RESUMES) {
    next++
    const cut = Math.floor(random() * EVENTS) // events the page saw: 0..EVENTS-1
    const headers = cut === 0 ? {} : { 'last-event-id': produced.events[cut - 1].id }
    const { events, first, last } = await read('GET', headers)
    firsts.push(first)
    lasts.push(last)
    const want = produced.events.slice(cut)
    const seen = new Set()
    for (const e of events) {
      if (seen.has(e.id)) duplicates++
      seen.add(e.id)
    }
    for (const e of want) if (!seen.has(e.id)) gaps++
  }
}
const started = performance.now()
await Promise.all(Array.from({ length: Number(a.concurrency) }, worker))
const took = (performance.now() - started) / 1000
const pct = (list, p) => {
  const sorted = [...list].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
console.log(
  JSON.stringify(
    {
      store: a.store,
      events: EVENTS,
      resumes: RESUMES,
      concurrency: Number(a.concurrency),
      firstByteP50Ms: +pct(firsts, 50).toFixed(2),
      firstByteP99Ms: +pct(firsts, 99).toFixed(2),
      lastByteP50Ms: +pct(lasts, 50).toFixed(2),
      lastByteP99Ms: +pct(lasts, 99).toFixed(2),
      duplicates,
      gaps,
      seconds: +took.toFixed(1),
    },
    null,
    2,
  ),
)
await client.close()
relay.close()
upstream.close()
await redis?.stop()
