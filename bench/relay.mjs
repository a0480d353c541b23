// Scenario E: relaying. 1,000 upstream streams (the load server, bench/server.mjs, 40 events/s each
// for 10 s, OpenAI-chunk-sized JSON stamped with the server's clock) relayed by one Node process
// (bench/relay/server.mjs) to 1,000 downstream HTTP clients in two other processes
// (bench/relay/client.mjs), for each way of writing the relay (the variants below).
//
//   node bench/relay.mjs [--variants relay,transform,readable,callbacks,fetch,raw,resumable,resumable-redis] [--runs 1]
//                        [--streams 1000] [--seconds 10] [--rate 40] [--out bench/results-e.md]
//   node bench/run.mjs --scenarios E      (the same, with run.mjs's --runs and --scale)
//
// Per variant and run: a fresh load server, a fresh relay process, a warm-up stream of 10 events,
// then the measured run. Reported, from the relay process over the run (first downstream open to
// the last response's end): CPU % of all its threads, CPU µs per relayed event (CPU % alone flatters
// a relay that falls behind), event-loop delay p50/p99 (monitorEventLoopDelay at 1 ms, minus that
// 1 ms), RSS per stream ((peak - baseline after a GC) / streams); from the downstream clients: lost
// events (scheduled minus valid received), corrupted events (not the upstream's JSON), end-to-end
// latency p50/p99 (server stamp to downstream parse) and first-event p99 (request sent to first
// event parsed).
import { fork, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { startRedis } from '../__test__/helpers/redis.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const VARIANTS = {
  relay: 'native-sse relay()',
  transform: 'native-sse relay() + transform',
  readable: "stream().toReadableStream({ format: 'sse' }) piped",
  callbacks: 'post() callbacks writing to res',
  fetch: 'fetch + eventsource-parser + re-encoding',
  raw: 'raw byte pipe (fetch body piped; floor)',
  resumable: 'native-sse relay({ resumable }), in-process store',
  'resumable-redis': 'native-sse relay({ resumable }), Redis on loopback',
  select: "native-sse relay({ select: '/choices/0/delta/content' })",
  'transform-select': 'native-sse relay() + transform picking the same token (JSON.parse)',
  coalesce: 'native-sse relay({ coalesce: 16 })',
}
// Asked for by name (bench/results-ai.md): not in the default set.
const AI_VARIANTS = new Set(['select', 'transform-select', 'coalesce'])
const CLIENT_PROCESSES = 2

function forkReady(file, args, execArgv = []) {
  const child = fork(file, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], execArgv })
  const port = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${path.basename(file)} did not start`)), 15_000)
    child.once('message', (msg) => {
      clearTimeout(timer)
      resolve(msg.port)
    })
    child.once('exit', (code) => reject(new Error(`${path.basename(file)} exited with ${code}`)))
  })
  return { child, port }
}

function ask(child, what) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${what} answer`)), 15_000)
    const on = (msg) => {
      if (msg?.[what] !== undefined) {
        clearTimeout(timer)
        child.off('message', on)
        resolve(msg[what])
      }
    }
    child.on('message', on)
    child.send(what)
  })
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    if (child.connected) child.send('exit')
    else child.kill('SIGKILL')
  })
}

function runClients(config, count, timeLimitMs) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(HERE, 'relay/client.mjs'), JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeLimitMs)
    child.on('close', () => {
      clearTimeout(timer)
      try {
        resolve(JSON.parse(stdout.trim().split('\n').at(-1)))
      } catch {
        resolve({ events: 0, corrupted: 0, errors: count, incomplete: count, latencies: [], firsts: [], killed: true })
      }
    })
  })
}

function percentile(sorted, p) {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** One measured run of one variant; resolves with its figures. */
async function runOnce(variant, { streams, seconds, rate }) {
  const count = Math.round(rate * seconds)
  const load = forkReady(path.join(HERE, 'server.mjs'), [])
  const loadPort = await load.port
  const redis = variant === 'resumable-redis' ? await startRedis() : null
  const relay = forkReady(
    path.join(HERE, 'relay/server.mjs'),
    [
      variant,
      JSON.stringify({ upstreamUrl: `http://127.0.0.1:${loadPort}/stream`, count, rate, storeUrl: redis?.url }),
    ],
    ['--expose-gc'],
  )
  try {
    const relayPort = await relay.port
    const url = `http://127.0.0.1:${relayPort}/`
    await runClients({ url: `${url}?count=10`, streams: 1, openBatch: 1, openEveryMs: 0, count: 10 }, 1, 30_000)
    // Resets the load server's CPU mark.
    await ask(load.child, 'stats')
    relay.child.send('start')
    await redis?.resetStats()
    const per = Math.ceil(streams / CLIENT_PROCESSES)
    const limit = 60_000 + seconds * 6000
    const parts = await Promise.all(
      Array.from({ length: CLIENT_PROCESSES }, (_, i) => {
        const n = Math.min(per, streams - i * per)
        // Together 50 opens every 20 ms, as scenario B.
        return runClients({ url, streams: n, openBatch: 50 / CLIENT_PROCESSES, openEveryMs: 20, count }, n, limit)
      }),
    )
    const r = await ask(relay.child, 'stats')
    // Round trips (EVALSHA: one per network read of a stream) and entries (XADD inside the scripts)
    // per relayed event.
    const calls = redis === null ? null : await redis.calls()
    const s = await ask(load.child, 'stats')
    const latencies = parts.flatMap((p) => p.latencies).sort((a, b) => a - b)
    const firsts = parts.flatMap((p) => p.firsts).sort((a, b) => a - b)
    const events = parts.reduce((n, p) => n + p.events, 0)
    return {
      events,
      lost: streams * count - events,
      corrupted: parts.reduce((n, p) => n + p.corrupted, 0),
      errors: parts.reduce((n, p) => n + p.errors, 0),
      seconds: r.wallSeconds,
      cpuPercent: (100 * r.cpuSeconds) / r.wallSeconds,
      cpuUsPerEvent: events > 0 ? (1e6 * r.cpuSeconds) / events : null,
      writesPerSec: r.writes / r.wallSeconds,
      eventsPerSec: events / r.wallSeconds,
      eldP50Ms: r.eldP50Ms,
      eldP99Ms: r.eldP99Ms,
      rssPerStreamKB: ((r.peakRssMB - r.baselineRssMB) * 1024) / streams,
      latencyP50Ms: percentile(latencies, 50),
      latencyP99Ms: percentile(latencies, 99),
      firstP99Ms: percentile(firsts, 99),
      serverCpuPercent: (100 * s.cpuSeconds) / r.wallSeconds,
      redisCallsPerEvent: calls === null || events === 0 ? null : ((calls.evalsha ?? 0) + (calls.eval ?? 0)) / events,
      redisXaddPerEvent: calls === null || events === 0 ? null : (calls.xadd ?? 0) / events,
    }
  } finally {
    await redis?.stop()
    await stop(relay.child)
    await stop(load.child)
  }
}

const COLUMNS = [
  ['lost', 'lost', 0],
  ['corrupted', 'corrupted', 0],
  ['run s', 'seconds', 1],
  ['relayed ev/s', 'eventsPerSec', 0],
  ['CPU %', 'cpuPercent', 0],
  ['CPU µs/event', 'cpuUsPerEvent', 1],
  ['writes/s', 'writesPerSec', 0],
  ['ELD p50 ms', 'eldP50Ms', 2],
  ['ELD p99 ms', 'eldP99Ms', 1],
  ['RSS/stream KB', 'rssPerStreamKB', 1],
  ['latency p50 ms', 'latencyP50Ms', 1],
  ['latency p99 ms', 'latencyP99Ms', 1],
  ['first event p99 ms', 'firstP99Ms', 0],
  ['load server CPU %', 'serverCpuPercent', 0],
  ['Redis round trips/event', 'redisCallsPerEvent', 3],
  ['XADD/event', 'redisXaddPerEvent', 2],
]

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
const fmt = (v, d) =>
  v === null ? 'n/a' : v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })

/** Runs scenario E and returns its markdown section (medians over `runs`). */
export async function scenarioE({
  runs = 1,
  streams = 1000,
  seconds = 10,
  rate = 40,
  variants = Object.keys(VARIANTS).filter((v) => !AI_VARIANTS.has(v)),
} = {}) {
  const results = new Map(variants.map((v) => [v, []]))
  for (let run = 0; run < runs; run++) {
    const shift = run % variants.length
    for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      const t0 = performance.now()
      let result
      try {
        result = await runOnce(variant, { streams, seconds, rate })
      } catch (err) {
        result = { error: err.message }
      }
      results.get(variant).push(result)
      const took = ((performance.now() - t0) / 1000).toFixed(1)
      console.error(
        `[E run ${run + 1}/${runs}] ${VARIANTS[variant]}: ${result.error ?? JSON.stringify(result)} (${took} s)`,
      )
    }
  }
  const rows = [
    ['relay', ...COLUMNS.map(([n]) => n)],
    ['---', ...COLUMNS.map(() => '---')],
  ]
  for (const variant of variants) {
    const ok = results.get(variant).filter((r) => r.error === undefined)
    rows.push([VARIANTS[variant], ...COLUMNS.map(([, key, d]) => fmt(median(ok.map((r) => r[key])), d))])
  }
  const title = `### E: ${streams.toLocaleString('en-US')} streams relayed, ${rate} events/s each for ${seconds} s (${(streams * rate).toLocaleString('en-US')} events/s scheduled)`
  return [title, '', ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n')
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { values: a } = parseArgs({
    options: {
      variants: {
        type: 'string',
        default: Object.keys(VARIANTS)
          .filter((v) => !AI_VARIANTS.has(v))
          .join(','),
      },
      runs: { type: 'string', default: '1' },
      streams: { type: 'string', default: '1000' },
      seconds: { type: 'string', default: '10' },
      rate: { type: 'string', default: '40' },
      out: { type: 'string', default: path.join(HERE, 'results-e.md') },
    },
  })
  const variants = a.variants.split(',').filter(Boolean)
  for (const v of variants) if (!(v in VARIANTS)) throw new Error(`unknown variant ${v}`)
  const started = new Date()
  const load = os.loadavg()
  const section = await scenarioE({
    runs: Number(a.runs),
    streams: Number(a.streams),
    seconds: Number(a.seconds),
    rate: Number(a.rate),
    variants,
  })
  console.log(`\n${section}\n`)
  const cpus = os.cpus()
  const header = [
    '# native-sse benchmark: scenario E (relaying)',
    '',
    `- date: ${started.toISOString()}`,
    `- node: ${process.version}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (load average at start: ${load.map((l) => l.toFixed(2)).join(', ')})`,
    `- command: \`node bench/relay.mjs ${process.argv.slice(2).join(' ')}\``,
  ].join('\n')
  writeFileSync(a.out, `${header}\n\n${section}\n`)
  console.error(`wrote ${a.out}`)
}
