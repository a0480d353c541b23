// npm run soak: many streams, sequential and concurrent, with random aborts at every phase, against a
// local server in a child process. Checks that nothing crashes, no callback runs after abort(), every
// request that was not aborted gets every event exactly once and in order, that open file descriptors
// come back to their baseline after each round and that RSS stops growing from round to round.
// Exits non-zero on any finding.
//
//   SOAK_QUICK=1 npm run soak     under a minute: 10,000 sequential streams, 4 rounds of 1,000 concurrent
//   npm run soak                  100,000 sequential streams, 4 rounds of 5,000 concurrent (SOAK_ROUNDS)
//   SOAK_MINUTES=10 npm run soak  the long mode: waves of 2,000 concurrent streams (SOAK_WAVE) for that
//                                 many minutes, alternately over HTTP/1.1 and over HTTP/2 (nginx with
//                                 http2_max_concurrent_streams 100, TLS, proxying to the same server;
//                                 skipped with a line saying so where nginx is missing). Besides the
//                                 aborts: server drops mid-body resumed with Last-Event-ID, new clients
//                                 every wave dropped without close() for the GC to collect (or closed, or
//                                 cleared), and the JS thread blocked for 200-1,000 ms in half the waves.
//                                 Needs about 2 x SOAK_WAVE + 512 open files (ulimit -n).
import http from 'node:http'
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readdirSync, readFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { fileURLToPath } from 'node:url'

const QUICK = process.env.SOAK_QUICK === '1'
const SEQUENTIAL = Number(process.env.SOAK_SEQUENTIAL ?? (QUICK ? 10_000 : 100_000))
const CONCURRENT = Number(process.env.SOAK_CONCURRENT ?? (QUICK ? 1_000 : 5_000))
const ROUNDS = Number(process.env.SOAK_ROUNDS ?? 4)
const IN_FLIGHT = 64 // how many of the "sequential" streams run at a time
const MINUTES = process.env.SOAK_MINUTES === undefined ? null : Number(process.env.SOAK_MINUTES)
const WAVE = Number(process.env.SOAK_WAVE ?? 2_000)
const DEADLINE_MS = (MINUTES !== null ? MINUTES + 5 : QUICK ? 6 : 20) * 60_000

// ---- the server (child process) ---------------------------------------------------------------
// GET/POST /s?k=KEY&n=N&gap=MS&fault=none|reset-first|drop&at=A&how=close|reset|after-headers
//   n events `id: i` / `data: KEY:i`, `gap` ms apart, then the end of the body; a request with a
//   Last-Event-ID header resumes after that id. With reset-first the first connection for KEY is
//   reset before any byte of the response (how=after-headers: closed after the headers, before any
//   event): the client must reconnect. With drop, a request without Last-Event-ID writes events
//   0..A-1 and then loses its connection (closed, or reset with how=reset) in the middle of the body:
//   the client must reconnect and resume with Last-Event-ID A-1.
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
      if (q.get('how') !== 'after-headers') {
        req.socket.resetAndDestroy()
        return
      }
      // A proxy answers 502 to a reset before the response, or to a reset that discards headers it
      // has not read yet: send the headers, then close the connection without ending the body.
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      res.flushHeaders()
      setTimeout(() => req.socket.destroy(), 50)
      return
    }
    seen.delete(key)
    const resumed = req.headers['last-event-id'] !== undefined
    const dropAt = q.get('fault') === 'drop' && !resumed ? Number(q.get('at')) : -1
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let i = Number(req.headers['last-event-id'] ?? -1) + 1
    const tick = () => {
      if (res.destroyed) return
      if (i === dropAt) {
        if (q.get('how') === 'reset') req.socket.resetAndDestroy()
        else req.socket.destroy()
        return
      }
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
  // The long mode keeps idle connections for a minute, so that only its clients' end (GC, close(),
  // clear()) can bring the open fds back to the baseline within its 15 s.
  const keepAlive = process.argv.find((a) => a.startsWith('--keep-alive='))
  server.keepAliveTimeout = keepAlive === undefined ? 5000 : Number(keepAlive.slice('--keep-alive='.length))
  // Node's default backlog (511) overflows when 2,000 connections arrive at once on a busy machine:
  // the kernel then drops handshakes and resets some connections before their request is read,
  // which nginx turns into 502 (the HTTP/1.1 client just reconnects).
  server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send({ port: server.address().port }))
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

// Fates: [name, weight]. The rounds use the first table; the long mode adds server drops mid-stream.
const FATES = [
  ['end', 55], // runs to the end
  ['reconnect', 10], // its first connection is reset before the response: it reconnects once
  ['before-headers', 10], // aborted right after post()
  ['mid-stream', 10], // aborted inside onMessage
  ['between-events', 10], // aborted in a setImmediate after an event
  ['in-reconnect-wait', 5], // aborted while it waits to reconnect after a reset
]
const FATES_WITH_DROPS = [
  ['end', 40],
  ['drop', 20], // the server drops the connection mid-body: it reconnects with Last-Event-ID and resumes
  ['reconnect', 8],
  ['before-headers', 8],
  ['mid-stream', 8],
  ['between-events', 8],
  ['in-reconnect-wait', 8],
]
function pickFate(table) {
  let roll = Math.random() * table.reduce((sum, [, w]) => sum + w, 0)
  for (const [name, weight] of table) {
    roll -= weight
    if (roll < 0) return name
  }
  return table[0][0]
}

/**
 * One stream with a random fate. Resolves with { fate, aborted, events, lost, duplicated }. Checks
 * exactly-once in-order delivery for streams that were not aborted and silence after abort() for
 * those that were; `lost` counts the events a stream that was not aborted never got, `duplicated`
 * the events any stream got more than once.
 */
function oneStream(sse, base, key, { n, gap, fates = FATES, resetAfterHeaders = false }) {
  const fate = pickFate(fates)
  const fault = fate === 'reconnect' || fate === 'in-reconnect-wait' ? 'reset-first' : fate === 'drop' ? 'drop' : 'none'
  const dropAt = 1 + Math.floor(Math.random() * (n - 1))
  const how = fault === 'reset-first' && resetAfterHeaders ? 'after-headers' : Math.random() < 0.5 ? 'close' : 'reset'
  const abortAt = Math.floor(Math.random() * n)
  const got = []
  let aborted = false
  let afterAbort = 0
  let closes = 0
  let finalError = null
  const req = sse.post({
    url: `${base}/s?k=${key}&n=${n}&gap=${gap}&fault=${fault}&at=${dropAt}&how=${how}`,
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
  const tally = () => {
    const distinct = new Set(got)
    const valid = got.filter((d) => d.startsWith(`${key}:`) && Number(d.slice(key.length + 1)) < n)
    return {
      fate,
      aborted,
      events: got.length,
      lost: aborted ? 0 : n - new Set(valid).size,
      duplicated: got.length - distinct.size,
    }
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
      return tally()
    },
    (err) => {
      find(
        `${key} (${fate}): done rejected with ${err.code}: ${err.message} ${finalError === err ? '' : '(not the last onError)'}`,
      )
      return tally()
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

// ---- the long mode -------------------------------------------------------------------------------
// Waves of WAVE concurrent streams (20 events 150 ms apart, the FATES_WITH_DROPS fates) until
// MINUTES have passed, HTTP/1.1 and HTTP/2 in turn. Each wave makes 1 to 3 new clients (5 instances
// each) and ends each of them one way: dropped without close() or clear() (the GC must collect it
// and close its sockets), close(), or clear() and then dropped. After each wave, with no client left,
// open fds must come back to the baseline (+2) within 15 s of GCs. RSS cannot come back to its
// baseline (glibc keeps freed memory for reuse), so it must settle instead: after the first four
// waves (the allocator's high-water mark), no wave may settle more than 10 % + 16 MiB above the
// highest of those four; a leak grows with every wave and crosses that line.
const LONG = { n: 20, gap: 150, fates: FATES_WITH_DROPS }
const WAVE_TIMEOUT_MS = 120_000
const WARMUP_WAVES = 4

function openFileLimit() {
  const line = readFileSync('/proc/self/limits', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('Max open files'))
  const soft = line?.split(/\s+/)[3]
  return soft === undefined || soft === 'unlimited' ? Infinity : Number(soft)
}

/** The kernel's count of connections dropped from a full accept queue (machine-wide), or null. */
function listenOverflows() {
  try {
    const [names, values] = readFileSync('/proc/net/netstat', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('TcpExt:'))
      .map((l) => l.split(/\s+/))
    const i = names.indexOf('ListenOverflows')
    return i < 0 ? null : Number(values[i])
  } catch {
    return null
  }
}

/** Busy-waits `ms` milliseconds: the JS thread is blocked while the streams keep arriving natively. */
function blockJs(ms) {
  const until = performance.now() + ms
  let spins = 0
  while (performance.now() < until && spins < 1e10) spins++
}

/** One wave: WAVE streams at once over `proto`, its clients ended before it returns. */
async function wave(SSEClient, proto, label) {
  const clients = Array.from({ length: 1 + Math.floor(Math.random() * 3) }, () => new SSEClient(proto.options))
  const instances = clients.flatMap((c) => Array.from({ length: 5 }, () => c.create()))
  let blocked = 0
  const blocker =
    Math.random() < 0.5
      ? setTimeout(
          () => {
            blocked = 200 + Math.floor(Math.random() * 800)
            blockJs(blocked)
          },
          300 + Math.random() * 1700,
        )
      : null
  let peakFds = fds()
  const sampler = setInterval(() => {
    peakFds = Math.max(peakFds, fds())
  }, 250)
  let timer
  const timedOut = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), WAVE_TIMEOUT_MS)
  })
  const results = await Promise.race([
    Promise.all(
      Array.from({ length: WAVE }, (_, i) =>
        oneStream(instances[i % instances.length], proto.base, `${label}s${i}`, proto.streams),
      ),
    ),
    timedOut,
  ])
  clearTimeout(timer)
  clearTimeout(blocker)
  clearInterval(sampler)
  const endings = []
  for (const client of clients) {
    const roll = Math.random()
    if (roll < 0.6) endings.push('dropped')
    else if (roll < 0.8) {
      await client.close()
      endings.push('closed')
    } else {
      client.clear()
      endings.push('cleared')
    }
  }
  if (results === null) {
    find(`${label}: the wave did not end within ${WAVE_TIMEOUT_MS / 1000} s`)
    for (const client of clients) await client.close()
    return null
  }
  const sum = (f) => results.reduce((total, r) => total + f(r), 0)
  return {
    streams: results.length,
    events: sum((r) => r.events),
    lost: sum((r) => r.lost),
    duplicated: sum((r) => r.duplicated),
    aborted: sum((r) => (r.aborted ? 1 : 0)),
    dropped: sum((r) => (r.fate === 'drop' ? 1 : 0)),
    blocked,
    endings,
    peakFds,
  }
}

async function runLong() {
  const started = performance.now()
  if (!(MINUTES > 0 && MINUTES <= 24 * 60)) {
    console.error(`SOAK_MINUTES must be a number of minutes from 0 to 1440 (got ${process.env.SOAK_MINUTES})`)
    process.exit(2)
  }
  const limit = openFileLimit()
  if (limit < 2 * WAVE + 512) {
    console.error(
      `open file limit ${limit} is too low for waves of ${WAVE} streams (a socket each here and in the server, ` +
        `more through nginx): raise it (ulimit -n ${Math.max(8192, 2 * WAVE + 512)}) or lower SOAK_WAVE`,
    )
    process.exit(2)
  }
  console.log(
    `soak, long mode: ${MINUTES} min of waves of ${WAVE} streams; ${new Date().toISOString()}, ` +
      `load average ${loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}, Node ${process.version}`,
  )
  const server = fork(fileURLToPath(import.meta.url), ['--serve', '--keep-alive=60000'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const [{ port }] = await once(server, 'message')
  const upstream = `http://127.0.0.1:${port}`
  const { SSEClient } = await import('../index.mjs')
  const { startNginxH2 } = await import('../__test__/helpers/h2.mjs')
  let nginx = null
  try {
    nginx = await startNginxH2(upstream, { maxConcurrentStreams: 100 })
  } catch (err) {
    find(`nginx is installed but did not start: ${err.message}`)
  }
  const protocols = [{ name: 'HTTP/1.1', base: upstream, options: {}, streams: LONG }]
  if (nginx !== null) {
    protocols.push({
      name: 'HTTP/2',
      base: nginx.base,
      options: { ca: nginx.ca, http2: true },
      streams: { ...LONG, resetAfterHeaders: true },
    })
  } else {
    console.log('HTTP/2: skipped (nginx or openssl is not installed); the HTTP/1.1 waves run alone')
  }
  // nginx runs in the foreground as this process's child: never leave it behind, whatever ends us.
  process.on('exit', () => nginx?.child.kill('SIGKILL'))
  const stopAll = async () => {
    server.kill()
    await nginx?.stop()
  }
  const overdue = setTimeout(() => {
    find(`the soak did not finish within ${DEADLINE_MS / 60000} minutes`)
    process.exitCode = 1
    server.kill()
    nginx?.child.kill('SIGKILL')
    process.exit(1)
  }, DEADLINE_MS)

  // Warm up every protocol so the baseline holds the runtime, the TLS roots and the JS helpers.
  for (const proto of protocols) {
    const warm = new SSEClient(proto.options)
    // Runs to the end: a random fate could reset the first connection before its response, which
    // nginx answers with 502 (a final error), and the warm-up is not one of the measured streams.
    await oneStream(warm.create(), proto.base, `warm${proto.name}`, { n: 3, gap: 0, fates: [['end', 1]] })
    await warm.close()
  }
  // GCs until open fds are at `target` or below (the baseline: a few rounds, nothing to wait for).
  const settle = async (target, tries) => {
    let now
    for (let i = 0; i < tries; i++) {
      await sleep(250)
      globalThis.gc?.()
      now = { rss: rssMiB(), fds: fds() }
      if (now.fds <= target) break
    }
    return now
  }
  const baseline = await settle(0, 4)
  const overflowsBefore = listenOverflows()
  console.log(`baseline: RSS ${baseline.rss.toFixed(1)} MiB, ${baseline.fds} open fds`)

  const totals = new Map(
    protocols.map((p) => [
      p.name,
      { waves: 0, streams: 0, events: 0, lost: 0, duplicated: 0, aborted: 0, dropped: 0, blocked: 0, rss: [], fds: [] },
    ]),
  )
  const settled = []
  const end = started + MINUTES * 60_000
  const maxWaves = Math.ceil(MINUTES * 60) // a wave takes well over a second
  for (let w = 1; w <= maxWaves && performance.now() < end; w++) {
    const proto = protocols[(w - 1) % protocols.length]
    const t = performance.now()
    const overflowsAtStart = listenOverflows()
    const r = await wave(SSEClient, proto, `w${w}`)
    const overflowed =
      overflowsAtStart === null ? '' : `; accept queue overflows ${listenOverflows() - overflowsAtStart}`
    if (r === null) break
    const seconds = (performance.now() - t) / 1000
    const peak = rssMiB()
    const t2 = performance.now()
    const after = await settle(baseline.fds + 2, 60)
    const settling = (performance.now() - t2) / 1000
    settled.push(after.rss)
    const tot = totals.get(proto.name)
    tot.waves++
    for (const k of ['streams', 'events', 'lost', 'duplicated', 'aborted', 'dropped', 'blocked']) tot[k] += r[k]
    tot.rss.push(after.rss)
    tot.fds.push(after.fds)
    console.log(
      `wave ${w} ${proto.name}: ${r.streams} streams, ${r.events} events, lost ${r.lost}, duplicated ${r.duplicated}, ` +
        `${r.aborted} aborted, ${r.dropped} dropped by the server and resumed; JS blocked ${r.blocked} ms; ` +
        `clients ${r.endings.join(', ')}; ${seconds.toFixed(1)} s; RSS peak ${peak.toFixed(0)} MiB, ` +
        `settled ${after.rss.toFixed(0)} MiB; open fds peak ${r.peakFds}, ${after.fds} after ${settling.toFixed(1)} s` +
        overflowed,
    )
    if (after.fds > baseline.fds + 2) find(`wave ${w} ${proto.name}: open fds ${after.fds} vs baseline ${baseline.fds}`)
    if (w > WARMUP_WAVES) {
      const ceiling = Math.max(...settled.slice(0, WARMUP_WAVES))
      if (after.rss > ceiling * 1.1 + 16) {
        find(
          `wave ${w}: RSS settled at ${after.rss.toFixed(0)} MiB, above the first ${WARMUP_WAVES} waves' ` +
            `${ceiling.toFixed(0)} MiB + 10 % + 16 MiB: a leak`,
        )
      }
    }
  }
  if (settled.length <= WARMUP_WAVES) {
    console.log(`(${settled.length} waves: too few to check RSS against the first ${WARMUP_WAVES})`)
  }
  for (const [name, t] of totals) {
    if (t.waves === 0) continue
    console.log(
      `${name}: ${t.waves} waves, ${t.streams} streams, ${t.events} events, lost ${t.lost}, duplicated ${t.duplicated}, ` +
        `${t.aborted} aborted, ${t.dropped} dropped by the server and resumed, JS blocked ${t.blocked} ms in all; ` +
        `RSS settled ${Math.min(...t.rss).toFixed(0)}-${Math.max(...t.rss).toFixed(0)} MiB ` +
        `(baseline ${baseline.rss.toFixed(0)}), open fds after each wave ${Math.min(...t.fds)}-${Math.max(...t.fds)} ` +
        `(baseline ${baseline.fds})`,
    )
    if (t.lost > 0 || t.duplicated > 0) find(`${name}: ${t.lost} events lost, ${t.duplicated} duplicated`)
  }
  const overflows = listenOverflows()
  if (overflows !== null && overflowsBefore !== null) {
    console.log(`accept queue overflows on this machine during the soak: ${overflows - overflowsBefore}`)
  }
  if (nginx !== null) {
    const beforeHeaders = nginx.log().match(/while reading response header from upstream/g)?.length ?? 0
    console.log(`nginx: ${beforeHeaders} upstream connections failed before the response headers (each one a 502)`)
  }
  clearTimeout(overdue)
  await stopAll()
  const all = [...totals.values()]
  console.log(
    `soak: ${all.reduce((n, t) => n + t.streams, 0)} streams in ${all.reduce((n, t) => n + t.waves, 0)} waves, ` +
      `${all.reduce((n, t) => n + t.events, 0)} events, ${findings.length} findings, ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s`,
  )
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
else if (MINUTES !== null) await runLong()
else await run()
