// Resuming, side by side: native-sse's resumable relays against the `resumable-stream` package, on the
// same redis-server, in the same run.
//
//   node bench/resume-compare.mjs [--events 2000] [--resumes 1000] [--concurrency 10] [--seed 1]
//
// Every server is on 127.0.0.1. A redis-server is started here on a free port. Each library runs as
// two server instances in their own Node processes: one produces a generation, the other serves the
// resumes (native-sse: __test__/helpers/relay-instance.mjs; resumable-stream:
// bench/resume-compare-instance.mjs, which uses the `redis` client). A local upstream (this process)
// streams OpenAI-chunk-sized events (`data: {"id":"chatcmpl-1",...,"delta":{"content":" t<i>"}}`).
//
// 1. Resume. One generation per library: the upstream writes `events` events at full speed and then
//    holds its response open. While it is open (live), `resumes` readers resume at random cut points
//    (seeded; the same cuts for both libraries), `concurrency` at a time, and hang up once they hold
//    the generation's last event. Then the upstream ends, and the same resumes run again on the
//    finished generation (read to the end). The cut k means "the page saw events 0..k-1": native-sse
//    gets `Last-Event-ID` = the log id of event k-1, resumable-stream gets `skipCharacters` = the
//    character offset of the end of event k-1 in the text its producer streamed. Timed from sending
//    the resume request: its first body byte, and the byte that completes the generation's last
//    event (p50/p99). Each reader's events are compared with exactly events k..events-1: an event the
//    page already had, or one received twice, is a duplicate; a missing one is a gap.
// 2. Kill the producer. A producer instance relays a long generation (an event every 20 ms);
//    `readers` readers follow it through the other instance; once each holds 10 live events the
//    producer is killed with SIGKILL. Timed from the kill: until each reader's response says the
//    generation ended (native-sse: its `interrupted` terminal event), capped at `cap` ms. A late
//    reader, asking to resume 100 ms after the kill, is timed the same way.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { performance } from 'node:perf_hooks'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { redisCommand, startRedis } from '../__test__/helpers/redis.mjs'
import { startInstance } from '../__test__/helpers/resumable.mjs'

const { values: a } = parseArgs({
  options: {
    events: { type: 'string', default: '2000' },
    resumes: { type: 'string', default: '1000' },
    concurrency: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    readers: { type: 'string', default: '10' },
    cap: { type: 'string', default: '15000' },
  },
})
const EVENTS = Number(a.events)
const RESUMES = Number(a.resumes)
const CONCURRENCY = Number(a.concurrency)
const READERS = Number(a.readers)
const CAP_MS = Number(a.cap)
// native-sse's default lease, given explicitly so that the table can name it.
const LEASE_MS = 3000
// The kill scenario's upstream: an event every TRICKLE_MS, at most TRICKLE_EVENTS of them.
const TRICKLE_MS = 20
const TRICKLE_EVENTS = 3000

const chunk = (i) =>
  JSON.stringify({
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1700000000,
    model: 'gpt-4o-mini',
    choices: [{ index: 0, delta: { content: ` t${i}` }, finish_reason: null }],
  })
const indexOf = (data) => {
  const m = / t(\d+)"/.exec(data ?? '')
  return m ? Number(m[1]) : -1
}

// The upstream. POST /hold?name=N: `EVENTS` events in one write, then the response stays open until
// release(N). POST /trickle: an event every TRICKLE_MS until TRICKLE_EVENTS or the client leaves.
const holds = new Map()
const release = (name) => holds.get(name)?.()
const upstream = http.createServer(async (req, res) => {
  req.resume()
  const at = new URL(req.url, 'http://127.0.0.1')
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  if (at.pathname === '/hold') {
    let text = ''
    for (let i = 0; i < EVENTS; i++) text += `data: ${chunk(i)}\n\n`
    res.write(text)
    const released = new Promise((resolve) => holds.set(at.searchParams.get('name'), resolve))
    // Bounded: a generation nobody releases ends after 10 minutes.
    await Promise.race([released, new Promise((resolve) => setTimeout(resolve, 600_000).unref())])
    res.end()
  } else {
    for (let i = 0; i < TRICKLE_EVENTS && !res.destroyed; i++) {
      res.write(`data: ${chunk(i)}\n\n`)
      await new Promise((resolve) => setTimeout(resolve, TRICKLE_MS))
    }
    res.end()
  }
})
upstream.listen(0, '127.0.0.1')
await once(upstream, 'listening')
const upstreamUrl = (path) => `http://127.0.0.1:${upstream.address().port}${path}`

const RS_INSTANCE = fileURLToPath(new URL('./resume-compare-instance.mjs', import.meta.url))

/** A resumable-stream instance (bench/resume-compare-instance.mjs) in its own Node process. */
async function startRsInstance(redisUrl) {
  const child = spawn(process.execPath, [RS_INSTANCE, redisUrl], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8')
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      const m = /READY (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`resumable-stream instance exited with ${code} before it was ready`)))
  })
  const exited = once(child, 'exit')
  return {
    url: `http://127.0.0.1:${port}`,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

/**
 * Reads an event stream. Resolves with { status, events: [{ event, id, data, index }], text (with
 * keepText), body (a non-200 answer), first (ms to the first body byte), last (ms to the byte that
 * completed event EVENTS-1, or null), ended (ms to the end; endedAt is its performance.now()),
 * how: 'end' | 'until' | 'cap' | 'error' }. `until(event)` true hangs up after that event;
 * `onEvent(event, count, result)` sees each one; the read is cut after `capMs` or when `abort`
 * resolves.
 */
function read(url, { method = 'GET', headers = {}, until, onEvent, capMs = CAP_MS, abort, keepText = false } = {}) {
  return new Promise((resolve) => {
    const sent = performance.now()
    const result = { status: 0, events: [], text: '', body: '', first: null, last: null, endedAt: 0, how: '' }
    let buffer = ''
    let settled = false
    const finish = (how) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      result.how = how
      result.endedAt = performance.now()
      result.ended = result.endedAt - sent
      req.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => finish('cap'), capMs)
    abort?.then(() => finish('cap'))
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      result.status = res.statusCode
      res.setEncoding('utf8')
      res.on('data', (d) => {
        if (settled) return
        if (res.statusCode !== 200) {
          result.body += d
          return
        }
        if (result.first === null) result.first = performance.now() - sent
        if (keepText) result.text += d
        buffer += d
        let at
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at)
          buffer = buffer.slice(at + 2)
          const event = { event: 'message', id: undefined, data: undefined, index: -1 }
          for (const line of block.split('\n')) {
            const colon = line.indexOf(':')
            if (colon === 0) continue
            const name = colon === -1 ? line : line.slice(0, colon)
            const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
            if (name === 'id') event.id = value
            else if (name === 'event') event.event = value
            else if (name === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`
          }
          if (event.data === undefined) continue
          if (event.event === 'message') event.index = indexOf(event.data)
          result.events.push(event)
          if (event.index === EVENTS - 1 && result.last === null) result.last = performance.now() - sent
          onEvent?.(event, result.events.length, result)
          if (until?.(event)) return finish('until')
        }
      })
      res.on('end', () => finish('end'))
      res.on('error', () => finish('error'))
    })
    req.on('error', () => finish('error'))
    req.end()
  })
}

/** Character offsets of the ends of the events in `text`: offsets[k] is where event k starts. */
function eventOffsets(text) {
  const offsets = [0]
  let at = 0
  while ((at = text.indexOf('\n\n', at)) !== -1) {
    at += 2
    offsets.push(at)
  }
  return offsets
}

let s = Number(a.seed) >>> 0 || 1
const random = () => {
  s ^= s << 13
  s ^= s >>> 17
  s ^= s << 5
  return (s >>> 0) / 0x100000000
}
// The page saw events 0..cut-1 (0..EVENTS-1 of them).
const cuts = Array.from({ length: RESUMES }, () => Math.floor(random() * EVENTS))

const pct = (list, p) => {
  if (list.length === 0) return null
  const sorted = [...list].sort((x, y) => x - y)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]
}
const ms = (v) => (v === null || v === undefined ? '-' : v.toFixed(1))

/** Runs every cut through `request(cut) => { url, headers }`, CONCURRENCY at a time. */
async function resumes(request, live) {
  const firsts = []
  const lasts = []
  const statuses = {}
  const hows = {}
  let duplicates = 0
  let gaps = 0
  let next = 0
  const started = performance.now()
  async function worker() {
    while (next < cuts.length) {
      const cut = cuts[next++]
      const { url, headers } = request(cut)
      const r = await read(url, { headers, until: live ? (e) => e.index === EVENTS - 1 : undefined })
      statuses[r.status] = (statuses[r.status] ?? 0) + 1
      hows[r.how] = (hows[r.how] ?? 0) + 1
      if (r.status !== 200) continue
      if (r.first !== null) firsts.push(r.first)
      if (r.last !== null) lasts.push(r.last)
      const seen = new Set()
      for (const e of r.events) {
        if (e.index === -1) continue
        if (e.index < cut || seen.has(e.index)) duplicates++
        seen.add(e.index)
      }
      for (let i = cut; i < EVENTS; i++) if (!seen.has(i)) gaps++
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return {
    statuses,
    hows,
    answered: statuses[200] ?? 0,
    firstP50: pct(firsts, 50),
    firstP99: pct(firsts, 99),
    lastP50: pct(lasts, 50),
    lastP99: pct(lasts, 99),
    complete: lasts.length,
    duplicates,
    gaps,
    seconds: (performance.now() - started) / 1000,
  }
}

/**
 * Produces a held generation through `producer`, runs the resumes live through `resumer`, releases
 * the upstream, waits for `finished(id)`, and runs them again. `request(cut, id, produced)` makes a
 * resume request from what the producer's response held once all events were out: { ids, offsets }.
 */
async function resumeScenario(name, { producer, resumer, request, finished }) {
  const id = `${name}-${process.pid}`
  let out
  const ready = new Promise((resolve) => (out = resolve))
  const producing = read(
    `${producer.url}/produce?id=${id}&upstream=${encodeURIComponent(upstreamUrl(`/hold?name=${id}`))}`,
    {
      method: 'POST',
      keepText: true,
      capMs: 600_000,
      onEvent: (e, n, result) => {
        if (n === EVENTS) out({ ids: result.events.map((x) => x.id), offsets: eventOffsets(result.text) })
      },
    },
  )
  const produced = await Promise.race([ready, producing.then(() => null)])
  if (produced === null) throw new Error(`${name}: the producing response ended before ${EVENTS} events`)
  const live = await resumes((cut) => request(cut, id, resumer, produced), true)
  release(id)
  const post = await producing
  const messages = post.events.filter((e) => e.index !== -1).length
  if (messages !== EVENTS) throw new Error(`${name}: produced ${messages} of ${EVENTS} events`)
  await finished(id)
  const done = await resumes((cut) => request(cut, id, resumer, produced), false)
  return { live, done, terminal: post.events.at(-1).index === -1 ? post.events.at(-1).event : null }
}

/**
 * The kill scenario: `producer` relays a trickling generation, READERS follow it through `resumer`,
 * the producer is killed with SIGKILL; `resumeUrl(resumer, id)` is a resume from the start.
 */
async function killScenario(name, { producer, resumer, resumeUrl }) {
  const id = `${name}-kill-${process.pid}`
  let started
  const enough = new Promise((resolve) => (started = resolve))
  const producing = read(`${producer.url}/produce?id=${id}&upstream=${encodeURIComponent(upstreamUrl('/trickle'))}`, {
    method: 'POST',
    capMs: 120_000,
    onEvent: (e, n) => n === 10 && started(),
  })
  await Promise.race([enough, producing])
  let cutReaders
  const capped = new Promise((resolve) => (cutReaders = resolve))
  let following = 0
  let allFollowing
  const follow = new Promise((resolve) => (allFollowing = resolve))
  const readers = Array.from({ length: READERS }, () => {
    let counted = false
    return read(resumeUrl(resumer, id), {
      capMs: 120_000,
      abort: capped,
      onEvent: (e, n) => {
        // Ten events past the producer's tenth: the reader has caught up and follows live.
        if (!counted && n >= 20) {
          counted = true
          if (++following === READERS) allFollowing()
        }
      },
    })
  })
  await Promise.race([follow, new Promise((resolve) => setTimeout(resolve, 10_000))])
  const followers = following
  const killedAt = performance.now()
  await producer.kill()
  setTimeout(cutReaders, CAP_MS)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const late = read(resumeUrl(resumer, id), { capMs: CAP_MS })
  const outcomes = (await Promise.all(readers)).map((r) =>
    r.how === 'cap' ? 'cap' : { ...r, after: r.endedAt - killedAt },
  )
  const lateResult = await late
  await producing
  const describe = (r) => {
    if (r === 'cap') return `no end within ${CAP_MS / 1000} s`
    const lastEvent = r.events.at(-1)
    const terminal = lastEvent && lastEvent.index === -1 ? `event: ${lastEvent.event}` : 'no terminal event'
    return `${r.how === 'end' ? 'response ended' : r.how}, ${terminal}`
  }
  const ends = outcomes.filter((r) => r !== 'cap').map((r) => r.after)
  const kinds = {}
  for (const r of outcomes) kinds[describe(r)] = (kinds[describe(r)] ?? 0) + 1
  return {
    followers,
    ended: ends.length,
    endP50: pct(ends, 50),
    endMax: ends.length ? Math.max(...ends) : null,
    kinds,
    late: {
      status: lateResult.status,
      body: lateResult.body.trim(),
      events: lateResult.events.length,
      how: lateResult.how === 'cap' ? `no end within ${CAP_MS / 1000} s` : describe(lateResult),
      afterKill: lateResult.endedAt - killedAt,
    },
  }
}

const redis = await startRedis()
const store = { url: redis.url, lease: LEASE_MS }
const instances = []
const results = {}
try {
  const [nativeA, nativeB, nativeC, rsA, rsB, rsC] = await Promise.all([
    startInstance(store),
    startInstance(store),
    startInstance(store),
    startRsInstance(redis.url),
    startRsInstance(redis.url),
    startRsInstance(redis.url),
  ])
  instances.push(nativeA, nativeB, nativeC, rsA, rsB, rsC)

  // native-sse: the producer's response carries the log ids; a cut k resumes after event k-1's id.
  results['native-sse'] = await resumeScenario('native', {
    producer: nativeA,
    resumer: nativeB,
    request: (cut, id, resumer, produced) => ({
      url: `${resumer.url}/resume?id=${id}`,
      headers: cut === 0 ? {} : { 'last-event-id': produced.ids[cut - 1] },
    }),
    // The producer's response ends after the terminal event is in the log.
    finished: async () => {},
  })
  // resumable-stream: a cut k skips the characters of events 0..k-1 of the producer's text.
  results['resumable-stream'] = await resumeScenario('rs', {
    producer: rsA,
    resumer: rsB,
    request: (cut, id, resumer, produced) => ({ url: `${resumer.url}/resume?id=${id}&skip=${produced.offsets[cut]}` }),
    // The producer sets its sentinel to DONE just after its response ends: wait for it (bounded).
    finished: async (id) => {
      for (let i = 0; i < 100; i++) {
        // The key exists (as "1", then "DONE"): GET answers a bulk string, which redisCommand reads.
        if ((await redisCommand(redis.port, 'GET', `resumable-stream:rs:sentinel:${id}`)) === 'DONE') return
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
      throw new Error('resumable-stream: the sentinel never said DONE')
    },
  })
  results['native-sse'].kill = await killScenario('native', {
    producer: nativeC,
    resumer: nativeB,
    resumeUrl: (resumer, id) => `${resumer.url}/resume?id=${id}`,
  })
  results['resumable-stream'].kill = await killScenario('rs', {
    producer: rsC,
    resumer: rsB,
    resumeUrl: (resumer, id) => `${resumer.url}/resume?id=${id}&skip=0`,
  })
} finally {
  for (const instance of instances) await instance.stop()
  await redis.stop()
  upstream.close()
}
const TOKENS = {
  'native-sse': 'Last-Event-ID (log id)',
  'resumable-stream': 'skipCharacters (a character count)',
}
const answers = (r) =>
  Object.entries(r.statuses)
    .map(([status, n]) => `${n} × ${status}`)
    .join(', ')
const lines = [
  `### Resume: ${EVENTS.toLocaleString('en')} events, ${RESUMES.toLocaleString('en')} resumes at seeded random cuts (seed ${a.seed}), ${CONCURRENCY} at a time`,
  '',
  '| library | generation | resume token | answers (HTTP) | first byte p50 / p99 ms | last event p50 / p99 ms | duplicates | gaps | run s |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
]
for (const [name, r] of Object.entries(results)) {
  for (const [phase, x] of [
    ['live', r.live],
    ['finished', r.done],
  ]) {
    lines.push(
      `| ${name} | ${phase} | ${TOKENS[name]} | ${answers(x)} | ${ms(x.firstP50)} / ${ms(x.firstP99)} | ${ms(x.lastP50)} / ${ms(x.lastP99)} | ${x.answered ? x.duplicates : '-'} | ${x.answered ? x.gaps : '-'} | ${x.seconds.toFixed(1)} |`,
    )
  }
}
lines.push(
  '',
  `### Kill the producer: ${READERS} readers following on another instance, SIGKILL, capped at ${CAP_MS / 1000} s`,
  '',
  '| library | readers following | how they ended | ended after kill p50 / max ms | late resume (100 ms after the kill) |',
  '| --- | --- | --- | --- | --- |',
)
for (const [name, r] of Object.entries(results)) {
  const k = r.kill
  const kinds = Object.entries(k.kinds)
    .map(([how, n]) => `${n} × ${how}`)
    .join(', ')
  const late = `HTTP ${k.late.status}${k.late.body ? ` "${k.late.body}"` : ''}, ${k.late.events} events, ${k.late.how}, at ${ms(k.late.afterKill)} ms`
  lines.push(`| ${name} | ${k.followers} of ${READERS} | ${kinds} | ${ms(k.endP50)} / ${ms(k.endMax)} | ${late} |`)
}
console.log(lines.join('\n'))
if (process.env.RESUME_COMPARE_JSON) console.error(JSON.stringify(results, null, 2))
