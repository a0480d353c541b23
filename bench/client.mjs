// One client running one scenario once, in a fresh process of its own so that its RSS and CPU time
// belong to that client alone. run.mjs starts it as
//
//   node --expose-gc bench/client.mjs '{"client":"native","scenario":"A","url":"http://127.0.0.1:PORT/stream",...}'
//
// and reads one JSON line from its stdout: the scenario's measurements, or {"error": "..."}.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'

const MB = 1024 * 1024

const config = JSON.parse(process.argv[2])
const adapter = await import(`./clients/${config.client}.mjs`)

/** Samples process.memoryUsage.rss() every 50 ms; peak() includes a sample taken at the call. */
function rssSampler() {
  let peak = process.memoryUsage.rss()
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss())
  }, 50)
  return {
    peak() {
      return Math.max(peak, process.memoryUsage.rss())
    },
    stop() {
      clearInterval(timer)
    },
  }
}

/** RSS once the garbage that is already unreachable is gone (the child runs with --expose-gc). */
function settledRss() {
  globalThis.gc()
  return process.memoryUsage.rss()
}

/** Counts events; `data` touches the string so that no client can skip making it. */
function counter() {
  const sink = {
    events: 0,
    chars: 0,
    data(data) {
      sink.events++
      sink.chars += data.length
    },
    many(n) {
      sink.events += n
    },
  }
  return sink
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Process CPU (all threads) and JS-thread busy time (event-loop utilization) since a mark. */
function cpuMark() {
  const cpu = process.cpuUsage()
  const elu = performance.eventLoopUtilization()
  const start = performance.now()
  return () => {
    const used = process.cpuUsage(cpu)
    return {
      wallSeconds: (performance.now() - start) / 1000,
      cpuSeconds: (used.user + used.system) / 1e6,
      jsBusySeconds: performance.eventLoopUtilization(elu).active / 1000,
    }
  }
}

// A: one stream of `count` events, as fast as the server writes them and the client takes them.
async function scenarioA(client) {
  const sink = counter()
  const rss = rssSampler()
  const measure = cpuMark()
  await client.stream({ count: config.count, rate: 0 }, sink)
  const m = measure()
  rss.stop()
  return {
    events: sink.events,
    lost: config.count - sink.events,
    seconds: m.wallSeconds,
    eventsPerSec: sink.events / m.wallSeconds,
    cpuSeconds: m.cpuSeconds,
    jsBusySeconds: m.jsBusySeconds,
    peakRssMB: rss.peak() / MB,
    maxRssMB: (process.resourceUsage().maxRSS * 1024) / MB,
  }
}

// B: `streams` concurrent streams of `count` events at `rate` events/s each.
//
// The streams are opened in batches of OPEN_BATCH every OPEN_EVERY_MS (2,500 a second), as requests
// arrive at a busy server, rather than all in one go: the kernel caps a listen backlog at
// net.core.somaxconn (often 4096), so 5,000 simultaneous connects can overflow the server's accept
// queue, and the dropped handshakes come back only after 1 s, 3 s, ... of TCP retransmission, which
// would measure the harness, not the client.
//
// Everything is measured over the whole run, from the first open to the last [DONE]. A client that
// cannot keep up does not lose events (TCP holds them back): its run takes longer than the nominal
// duration instead, its event-loop delay grows, and so does allOpenSeconds, the time until every
// stream had its first event. cpuMsPer1kEvents compares clients whatever their run's length.
const OPEN_BATCH = 50
const OPEN_EVERY_MS = 20

async function scenarioB(client) {
  const sink = counter()
  const baseline = settledRss()
  const rss = rssSampler()
  const body = { count: config.count, rate: config.rate }
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
  const measure = cpuMark()
  const started = performance.now()
  let firstEvents = 0
  let allOpenMs = null
  const firstEvent = () => {
    if (++firstEvents === config.streams) allOpenMs = performance.now() - started
  }
  const streamSink = () => {
    let first = true
    return {
      data(data) {
        if (first) {
          first = false
          firstEvent()
        }
        sink.data(data)
      },
      many(n) {
        if (first && n > 0) {
          first = false
          firstEvent()
        }
        sink.many(n)
      },
    }
  }

  const streams = []
  while (streams.length < config.streams) {
    const batch = Math.min(OPEN_BATCH, config.streams - streams.length)
    for (let i = 0; i < batch; i++) streams.push(client.stream(body, streamSink()))
    if (streams.length < config.streams) await new Promise((resolve) => setTimeout(resolve, OPEN_EVERY_MS))
  }
  const results = await Promise.allSettled(streams)
  const m = measure()
  delay.disable()
  rss.stop()
  const failures = results.filter((r) => r.status === 'rejected')
  const peak = rss.peak()
  // The histogram records how long each 1 ms timer took to fire; the 1 ms itself is not delay.
  const beyondTimer = (ns) => Math.max(0, ns / 1e6 - 1)
  return {
    streams: config.streams,
    expected: config.streams * config.count,
    events: sink.events,
    lost: config.streams * config.count - sink.events,
    errors: failures.length,
    firstError: failures[0] ? String(failures[0].reason?.message ?? failures[0].reason) : undefined,
    seconds: m.wallSeconds,
    allOpenSeconds: allOpenMs === null ? null : allOpenMs / 1000,
    cpuPercent: (100 * m.cpuSeconds) / m.wallSeconds,
    jsBusyPercent: (100 * m.jsBusySeconds) / m.wallSeconds,
    jsBusyUsPerEvent: sink.events > 0 ? (1e6 * m.jsBusySeconds) / sink.events : null,
    cpuMsPer1kEvents: sink.events > 0 ? (1e6 * m.cpuSeconds) / sink.events : null,
    eldP50Ms: beyondTimer(delay.percentile(50)),
    eldP99Ms: beyondTimer(delay.percentile(99)),
    eldMaxMs: beyondTimer(delay.max),
    baselineRssMB: baseline / MB,
    peakRssMB: peak / MB,
    rssPerStreamKB: (peak - baseline) / 1024 / config.streams,
  }
}

// C: one stream at `rate` events/s; each event carries the server's clock, read with the same
// performance.timeOrigin + performance.now() here (both are wall-clock based, so they agree across
// processes on one machine).
async function scenarioC(client) {
  const latencies = []
  const sink = {
    data(data) {
      latencies.push(performance.timeOrigin + performance.now() - JSON.parse(data).t)
    },
  }
  await client.stream({ count: config.count, rate: config.rate, ts: true }, sink)
  const sorted = latencies.toSorted((a, b) => a - b)
  return {
    events: latencies.length,
    lost: config.count - latencies.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.at(-1) ?? null,
  }
}

// D: `streams` short streams of `count` events, one after the other.
async function scenarioD(client) {
  const sink = counter()
  const measure = cpuMark()
  let rssCheckpoint = 0
  for (let i = 1; i <= config.streams; i++) {
    await client.stream({ count: config.count, rate: 0 }, sink)
    if (i === config.checkpoint) rssCheckpoint = settledRss()
  }
  const m = measure()
  const rssEnd = settledRss()
  return {
    streams: config.streams,
    lost: config.streams * config.count - sink.events,
    seconds: m.wallSeconds,
    streamsPerSec: config.streams / m.wallSeconds,
    cpuSeconds: m.cpuSeconds,
    rssCheckpointMB: rssCheckpoint / MB,
    rssEndMB: rssEnd / MB,
    rssGrowthPercent: (100 * (rssEnd - rssCheckpoint)) / rssCheckpoint,
  }
}

const scenarios = { A: scenarioA, B: scenarioB, C: scenarioC, D: scenarioD }

let result
const client = adapter.createClient({ url: config.url, wantData: config.scenario === 'C' })
try {
  // One short stream first, outside every measurement: it loads what a client loads lazily (Node's
  // fetch pulls in undici on first use), warms the code up and leaves one connection open.
  await client.stream({ count: 10, rate: 0 }, counter())
  result = await scenarios[config.scenario](client)
} catch (err) {
  result = { error: String(err?.stack ?? err) }
} finally {
  client.close()
}
// Exit at once: keep-alive sockets left in a client's pool must not hold the process open.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0))
