// npm run soak: many streams, sequential and concurrent, with random aborts at every phase, against a
// local server in a child process. Checks that nothing crashes, no callback runs after abort(), every
// request that was not aborted gets every event exactly once and in order, that open file descriptors
// come back to their baseline after each round and that RSS stops growing from round to round.
// Exits non-zero on any finding.
//
//   SOAK_QUICK=1 npm run soak     under a minute: 10,000 sequential streams, 4 rounds of 1,000 concurrent
//   npm run soak                  100,000 sequential streams, 4 rounds of 5,000 concurrent (SOAK_ROUNDS)
import http from 'node:http'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const QUICK = process.env.SOAK_QUICK === '1'
const SEQUENTIAL = Number(process.env.SOAK_SEQUENTIAL ?? (QUICK ? 10_000 : 100_000))
const CONCURRENT = Number(process.env.SOAK_CONCURRENT ?? (QUICK ? 1_000 : 5_000))
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 4)
const IN_FLIGHT = 64 // how many of the "sequential" streams run at a time
const DEADLINE_MS = (QUICK ? 6 : 20) * 60_000

// ---- the server (child process) ---------------------------------------------------------------
// GET/POST /s?k=KEY&n=N&gap=MS&fault=none|reset-first
//   n events `id: i` / `data: KEY:i`, `gap` ms apart, then the end of the body. With reset-first the
//   first connection for KEY is reset before any byte of the response: the client must reconnect.
function serve() {
  const seen = new Set()
  const server = http.createServer((req, res) => {
    req.resume()
    const q = new URL(req.url, 'http://x').searchParams
    const key = q.get('k')
    const n = Number(q.get('n'))
    const gap = Number(q.get('gap'))
    if (q.get('fault') === 'reset-first' && !seen.has(key)) {
      seen.add(key)
      req.socket.resetAndDestroy()
      return
    }
    seen.delete(key)
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let i = Number(req.headers['last-event-id'] ?? -1) + 1
    const tick = () => {
      if (res.destroyed) return
      if (i >= n) {
        res.end()
        return
      }
      res.write(`id: ${i}\ndata: ${key}:${i}\n\n`)
      i++
      if (gap > 0) setTimeout(tick, gap)
      else tick()
    }
    tick()
  })
  server.keepAliveTimeout = 5000
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  process.on('disconnect', () => process.exit(0))
}

// ---- the client (this process) -----------------------------------------------------------------
const fds = () => readdirSync('/proc/self/fd').length
const rssMiB = () => process.memoryUsage().rss / 1048576
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const findings = []
const find = (text) => {
  if (findings.length < 20) console.error(`FINDING: ${text}`)
  findings.push(text)
}

/**
 * One stream with a random fate. Resolves with { aborted, events }. Checks exactly-once delivery for
 * streams that were not aborted and silence after abort() for those that were.
 */
function oneStream(sse, base, key, { n, gap }) {
  const roll = Math.random()
  // 55 % run to the end, 10 % reconnect once first; the rest are aborted at some phase.
  const fate =
    roll < 0.55
      ? 'end'
      : roll < 0.65
        ? 'reconnect'
        : roll < 0.75
          ? 'before-headers'
          : roll < 0.85
            ? 'mid-stream'
            : roll < 0.95
              ? 'between-events'
              : 'in-reconnect-wait'
  const fault = fate === 'reconnect' || fate === 'in-reconnect-wait' ? 'reset-first' : 'none'
  const abortAt = Math.floor(Math.random() * n)
  const got = []
  let aborted = false
  let afterAbort = 0
  let closes = 0
  let finalError = null
  const req = sse.post({
    url: `${base}/s?k=${key}&n=${n}&gap=${gap}&fault=${fault}`,
    body: { key },
    retryDelay: fate === 'in-reconnect-wait' ? 1000 : 5,
    onMessage(msg) {
      if (aborted) afterAbort++
      got.push(msg.data)
      if (fate === 'mid-stream' && got.length - 1 === abortAt) {
        aborted = true
        req.abort()
      }
      if (fate === 'between-events' && got.length - 1 === abortAt) {
        setImmediate(() => {
          aborted = true
          req.abort()
        })
      }
    },
    onError(err) {
      if (aborted) afterAbort++
      if (fate === 'in-reconnect-wait' && err.willRetry) {
        aborted = true
        req.abort()
      }
      if (!err.willRetry) finalError = err
    },
    onClose() {
      if (aborted) afterAbort++
      closes++
    },
  })
  if (fate === 'before-headers') {
    aborted = true
    req.abort()
  }
  return req.done.then(
    () => {
      if (afterAbort > 0) find(`${key} (${fate}): ${afterAbort} callbacks after abort()`)
      if (!aborted) {
        if (closes !== 1) find(`${key} (${fate}): onClose ran ${closes} times`)
        if (got.length !== n || got.some((d, i) => d !== `${key}:${i}`)) {
          find(
            `${key} (${fate}): got ${got.length}/${n} events, first wrong at ${got.findIndex((d, i) => d !== `${key}:${i}`)}`,
          )
        }
      } else if (got.some((d, i) => d !== `${key}:${i}`)) {
        find(`${key} (${fate}): events out of order or repeated before the abort`)
      }
      return { aborted, events: got.length }
    },
    (err) => {
      find(
        `${key} (${fate}): done rejected with ${err.code}: ${err.message} ${finalError === err ? '' : '(not the last onError)'}`,
      )
      return { aborted, events: got.length }
    },
  )
}

async function run() {
  const started = performance.now()
  const server = fork(fileURLToPath(import.meta.url), ['--serve'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const [{ port }] = await once(server, 'message')
  const base = `http://127.0.0.1:${port}`
  const { SSEClient } = await import('../index.mjs')
  const overdue = setTimeout(() => {
    find(`the soak did not finish within ${DEADLINE_MS / 60000} minutes`)
    report(started)
    server.kill()
    process.exit(1)
  }, DEADLINE_MS)

  // Warm up once so the baseline includes the runtime, the TLS roots and the JS helpers.
  const warm = new SSEClient()
  await oneStream(warm.create(), base, 'warm', { n: 3, gap: 0 })
  warm.clear()
  await sleep(200)
  globalThis.gc?.()
  const baseline = { rss: rssMiB(), fds: fds() }
  console.log(`baseline: RSS ${baseline.rss.toFixed(1)} MiB, ${baseline.fds} open fds`)

  // Phase 1: sequential streams, IN_FLIGHT lanes at a time. Each lane replaces its SSEClient every
  // 100 streams (clear() then a new one), so clients are created and torn down throughout.
  let done = 0
  let events = 0
  let aborted = 0
  const t1 = performance.now()
  let next = 0
  async function lane() {
    let client = new SSEClient()
    let sse = client.create()
    let mine = 0
    while (next < SEQUENTIAL) {
      const i = next++
      if (++mine % 100 === 0) {
        client.clear()
        client = new SSEClient()
        sse = client.create()
      }
      const r = await oneStream(sse, base, `q${i}`, { n: 5, gap: 0 })
      done++
      events += r.events
      if (r.aborted) aborted++
    }
    client.clear()
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
  const seqSeconds = (performance.now() - t1) / 1000
  console.log(
    `sequential: ${done} streams (${aborted} aborted), ${events} events in ${seqSeconds.toFixed(1)} s, ` +
      `${(done / seqSeconds).toFixed(0)} streams/s, RSS ${rssMiB().toFixed(1)} MiB`,
  )

  // Phase 2: CONCURRENT streams open at once, 20 events each 200 ms apart, in ROUNDS rounds. After
  // each round the sockets must be closed and RSS settled: a leak grows from round to round, while
  // the allocator's high-water mark (glibc keeps freed memory for reuse) stays put.
  let concEvents = 0
  const settled = []
  // One round in a function of its own, so that its SSEClient is unreachable afterwards: the
  // client's idle keep-alive connections close when it is collected (or after the pool's idle time).
  async function concurrentRound(round) {
    const many = new SSEClient()
    const instances = Array.from({ length: 10 }, () => many.create())
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, (_, i) =>
        oneStream(instances[i % 10], base, `r${round}c${i}`, { n: 20, gap: 200 }),
      ),
    )
    many.clear()
    return {
      aborted: results.filter((r) => r.aborted).length,
      events: results.reduce((sum, r) => sum + r.events, 0),
    }
  }
  for (let round = 1; round <= ROUNDS; round++) {
    const t2 = performance.now()
    const { aborted: roundAborted, events: roundEvents } = await concurrentRound(round)
    const peak = rssMiB()
    concEvents += roundEvents
    let after = { rss: 0, fds: 0 }
    for (let i = 0; i < 50; i++) {
      await sleep(200)
      globalThis.gc?.()
      after = { rss: rssMiB(), fds: fds() }
      if (after.fds <= baseline.fds + 2) break
    }
    settled.push(after.rss)
    const mem = process.memoryUsage()
    console.log(
      `concurrent round ${round}: ${CONCURRENT} streams (${roundAborted} aborted), ` +
        `${roundEvents} events in ${((performance.now() - t2) / 1000).toFixed(1)} s; RSS peak ${peak.toFixed(1)} MiB, ` +
        `settled ${after.rss.toFixed(1)} MiB (JS heap ${(mem.heapTotal / 1048576).toFixed(1)} MiB); ${after.fds} open fds`,
    )
    if (after.fds > baseline.fds + 2) find(`round ${round}: open fds ${after.fds} vs baseline ${baseline.fds}`)
  }
  // glibc's arenas reach their high-water mark over the first rounds; a leak keeps growing in every
  // round, so the last round is compared with the one before it.
  if (ROUNDS > 1) {
    const [before, last] = settled.slice(-2)
    if (last - before > before * 0.05 + 8) {
      find(
        `RSS grew by ${(last - before).toFixed(1)} MiB in the last round (${settled.map((r) => r.toFixed(0)).join(' -> ')} MiB): a leak`,
      )
    }
  }

  clearTimeout(overdue)
  server.kill()
  report(started, { sequential: done, concurrent: CONCURRENT * ROUNDS, events: events + concEvents })
  process.exit(findings.length === 0 ? 0 : 1)
}

function report(started, totals = {}) {
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  console.log(
    `soak: ${totals.sequential ?? '?'} sequential + ${totals.concurrent ?? '?'} concurrent streams, ` +
      `${totals.events ?? '?'} events, ${findings.length} findings, ${seconds} s`,
  )
}

if (process.argv.includes('--serve')) serve()
else await run()
