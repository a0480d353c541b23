// The benchmark orchestrator: native-sse against the other ways to read an SSE stream over POST in
// Node, on the same machine, in the same run.
//
//   node bench/run.mjs [--scenarios A,B,C,D,E] [--runs 3]
//                      [--clients native,fetch,eventsource,fes,compat-eventsource,compat-fes,
//                                 compat-eventsource-fetch,compat-fes-fetch,raw,native-parse,native-select,
//                                 native-parse-coalesce,native-select-coalesce]
//                      [--scale 1] [--streams 1000,5000] [--out bench/results.md]
//
// Every (scenario, run, client) gets a fresh load server (server.mjs) and a fresh client process
// (client.mjs), so that RSS and CPU time belong to one client alone and nothing carries over. The
// order of the clients rotates from run to run, so that none is always first or last on a machine
// that heats up or has background load. The tables show medians over the runs; they are printed and
// written, with the machine and the exact command, to --out.
import { execFileSync, spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const SERVER = path.join(HERE, 'server.mjs')
const CLIENT = path.join(HERE, 'client.mjs')

const CLIENTS = {
  native: 'native-sse',
  'native-diag': 'native-sse, every diagnostics channel subscribed',
  'native-parse': 'native-sse, JSON.parse of each event for its content',
  'native-select': "native-sse, select: '/choices/0/delta/content'",
  'native-parse-coalesce': 'native-sse, JSON.parse of each event, coalesce: 16',
  'native-select-coalesce': "native-sse, select: '/choices/0/delta/content', coalesce: 16",
  fetch: 'fetch + eventsource-parser',
  eventsource: 'eventsource',
  fes: '@microsoft/fetch-event-source',
  'compat-eventsource': 'native-sse/eventsource',
  'compat-fes': 'native-sse/fetch-event-source',
  'compat-eventsource-fetch': 'native-sse/eventsource, custom fetch',
  'compat-fes-fetch': 'native-sse/fetch-event-source, custom fetch',
  raw: 'raw socket (floor)',
}
const AI_CLIENTS = new Set(['native-parse', 'native-select', 'native-parse-coalesce', 'native-select-coalesce'])
const SCENARIOS = ['A', 'B', 'C', 'D', 'E']

const USAGE = `usage: node bench/run.mjs [--scenarios A,B,C,D,E] [--runs 3] [--clients ${Object.keys(CLIENTS).join(',')}]
                         [--scale 1] [--streams 1000,5000] [--out bench/results.md]

  --scale    multiplies event counts, stream counts and durations (0.05 for a quick check)
  --streams  the concurrent stream counts of scenario B, before --scale`

function fail(message) {
  console.error(`${message}\n\n${USAGE}`)
  process.exit(2)
}

const { values: args } = parseArgs({
  options: {
    scenarios: { type: 'string', default: SCENARIOS.join(',') },
    runs: { type: 'string', default: '3' },
    // native-diag (bench/results-diagnostics.md) and the native-parse/native-select clients (select
    // and coalesce, bench/results-ai.md) are asked for by name.
    clients: {
      type: 'string',
      default: Object.keys(CLIENTS)
        .filter((c) => c !== 'native-diag' && !AI_CLIENTS.has(c))
        .join(','),
    },
    scale: { type: 'string', default: '1' },
    streams: { type: 'string', default: '1000,5000' },
    out: { type: 'string', default: path.join(HERE, 'results.md') },
    help: { type: 'boolean', short: 'h', default: false },
  },
})
if (args.help) {
  console.log(USAGE)
  process.exit(0)
}
const list = (text) =>
  text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
const scenarios = list(args.scenarios).map((s) => s.toUpperCase())
const clients = list(args.clients)
const runs = Number(args.runs)
const scale = Number(args.scale)
const streamCounts = list(args.streams).map(Number)
for (const s of scenarios) if (!SCENARIOS.includes(s)) fail(`unknown scenario ${s}`)
for (const c of clients) if (!(c in CLIENTS)) fail(`unknown client ${c}`)
if (!Number.isInteger(runs) || runs < 1 || runs > 100) fail('--runs must be an integer from 1 to 100')
if (!(scale > 0 && scale <= 10)) fail('--scale must be a number above 0 and at most 10')
for (const n of streamCounts) if (!Number.isInteger(n) || n < 1) fail('--streams must list positive integers')

const scaled = (n, min) => Math.max(min, Math.round(n * scale))

/**
 * The jobs of each scenario: the client's parameters, a hard time limit for its process, and the
 * table that shows the medians. A limit is generous (a slow client still finishes) but bounded.
 */
function plan(scenario) {
  if (scenario === 'A') {
    const count = scaled(1_000_000, 1000)
    return [
      {
        title: `A: one stream, ${count.toLocaleString('en-US')} events as fast as possible`,
        params: { count },
        timeoutMs: 30_000 + count * 0.2,
        columns: [
          ['events/s', 'eventsPerSec', 0],
          ['wall s', 'seconds', 2],
          ['CPU s', 'cpuSeconds', 2],
          ['JS-thread s', 'jsBusySeconds', 2],
          ['peak RSS MB', 'peakRssMB', 0],
          ['maxRSS MB', 'maxRssMB', 0],
          ['lost', 'lost', 0],
          ['server CPU s', 'serverCpuSeconds', 2],
        ],
      },
    ]
  }
  if (scenario === 'B') {
    const seconds = Math.max(2, 10 * scale)
    const rate = 40
    return streamCounts.map((n) => {
      const streams = scaled(n, 10)
      return {
        title: `B: ${streams.toLocaleString('en-US')} concurrent streams, ${rate} events/s each for ${seconds} s`,
        params: { streams, rate, count: Math.round(rate * seconds) },
        timeoutMs: 120_000 + seconds * 6000 + streams * 10,
        columns: [
          ['lost', 'lost', 0],
          ['errors', 'errors', 0],
          ['run s', 'seconds', 1],
          ['all open s', 'allOpenSeconds', 2],
          ['CPU %', 'cpuPercent', 0],
          ['JS busy %', 'jsBusyPercent', 0],
          ['JS busy µs/ev', 'jsBusyUsPerEvent', 2],
          ['CPU ms/1k ev', 'cpuMsPer1kEvents', 1],
          ['ELD p50 ms', 'eldP50Ms', 2],
          ['ELD p99 ms', 'eldP99Ms', 1],
          ['peak RSS MB', 'peakRssMB', 0],
          ['RSS/stream KB', 'rssPerStreamKB', 1],
          ['server CPU %', 'serverCpuPercent', 0],
        ],
      }
    })
  }
  if (scenario === 'C') {
    const seconds = Math.max(2, 10 * scale)
    const rate = 20
    const count = Math.round(rate * seconds)
    return [
      {
        title: `C: delivery latency, one stream at ${rate} events/s, ${count} events`,
        params: { count, rate },
        timeoutMs: 30_000 + seconds * 1000,
        columns: [
          ['p50 ms', 'p50Ms', 2],
          ['p99 ms', 'p99Ms', 2],
          ['max ms', 'maxMs', 2],
          ['lost', 'lost', 0],
        ],
      },
    ]
  }
  const streams = scaled(2000, 20)
  const checkpoint = Math.max(1, Math.round(streams / 10))
  return [
    {
      title: `D: ${streams.toLocaleString('en-US')} sequential streams of 10 events`,
      params: { streams, count: 10, checkpoint },
      timeoutMs: 60_000 + streams * 50,
      columns: [
        ['streams/s', 'streamsPerSec', 0],
        ['CPU s', 'cpuSeconds', 2],
        [`RSS MB @${checkpoint}`, 'rssCheckpointMB', 1],
        [`RSS MB @${streams}`, 'rssEndMB', 1],
        ['growth %', 'rssGrowthPercent', 1],
        ['lost', 'lost', 0],
      ],
    },
  ]
}

// Scenario B holds thousands of sockets in the client and as many in the server. A soft limit on
// open files below that is raised (up to the hard limit) in the shell that starts each child.
function fileLimits() {
  try {
    const [soft, hard] = execFileSync('/bin/sh', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' }).split('\n')
    const parse = (v) => (v.trim() === 'unlimited' ? Infinity : Number(v))
    return { soft: parse(soft), hard: parse(hard) }
  } catch {
    return { soft: Infinity, hard: Infinity }
  }
}
const limits = fileLimits()
const needFiles = scenarios.includes('B') ? Math.max(...streamCounts.map((n) => scaled(n, 10))) + 512 : 0
let raiseFilesTo = null
if (needFiles > limits.soft) {
  if (needFiles <= limits.hard) {
    raiseFilesTo = needFiles
  } else {
    console.error(
      `warning: scenario B needs about ${needFiles} open files per process but the hard limit is ${limits.hard}; ` +
        'its larger runs will fail with EMFILE (raise it with ulimit -Hn as root)',
    )
  }
}

const children = new Set()

function spawnNode(nodeArgs, stdio) {
  const child =
    raiseFilesTo === null
      ? spawn(process.execPath, nodeArgs, { stdio })
      : spawn('/bin/sh', ['-c', `ulimit -n ${raiseFilesTo} && exec "$0" "$@"`, process.execPath, ...nodeArgs], {
          stdio,
        })
  children.add(child)
  child.on('exit', () => children.delete(child))
  return child
}

function killChild(child) {
  if (child.exitCode === null && child.signalCode === null) {
    try {
      process.kill(child.pid, 'SIGKILL')
    } catch {
      // It exited between the check and the kill.
    }
  }
}

// Leave nothing behind when interrupted: only the children this process started are killed.
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) killChild(child)
    process.exit(130)
  })
}

function waitExit(child, ms) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => {
      killChild(child)
      resolve()
    }, ms)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
  })
}

/** The next IPC message of `child` that has `key`, or an error after `ms`. */
function message(child, key, ms) {
  return new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg && msg[key] !== undefined) {
        cleanup()
        resolve(msg[key])
      }
    }
    const onExit = () => {
      cleanup()
      reject(new Error(`the server exited before sending ${key}`))
    }
    const timer = setTimeout(() => {
      cleanup()
      reject(new Error(`the server sent no ${key} within ${ms} ms`))
    }, ms)
    const cleanup = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    child.on('message', onMessage)
    child.on('exit', onExit)
  })
}

async function startServer() {
  const child = spawnNode([SERVER], ['ignore', 'inherit', 'inherit', 'ipc'])
  try {
    const port = await message(child, 'port', 10_000)
    return {
      url: `http://127.0.0.1:${port}/stream`,
      stats() {
        // The listener is attached in the same tick as the send, so the answer cannot be missed.
        const answer = message(child, 'stats', 10_000)
        child.send('stats')
        return answer
      },
      async stop() {
        if (child.connected) child.send('exit')
        await waitExit(child, 3000)
      },
    }
  } catch (err) {
    killChild(child)
    throw err
  }
}

/** Runs one client process to its end or its time limit; resolves with its JSON report. */
function runClient(config, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawnNode(['--expose-gc', CLIENT, JSON.stringify(config)], ['ignore', 'pipe', 'pipe'])
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-4000)))
    const timer = setTimeout(() => {
      timedOut = true
      killChild(child)
    }, timeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) return resolve({ error: `killed after the ${Math.round(timeoutMs / 1000)} s time limit` })
      const line = stdout.trim().split('\n').at(-1) ?? ''
      try {
        resolve(JSON.parse(line))
      } catch {
        const why = signal ? `signal ${signal}` : `exit code ${code}`
        resolve({ error: `${why}, no report; stderr: ${stderr.trim().split('\n').slice(-3).join(' | ')}` })
      }
    })
  })
}

async function runJob(scenario, job, client) {
  let server
  try {
    server = await startServer()
  } catch (err) {
    return { error: `server: ${err.message}` }
  }
  try {
    await server.stats()
    const result = await runClient({ client, scenario, url: server.url, ...job.params }, job.timeoutMs)
    const { cpuSeconds } = await server.stats()
    if (result.error === undefined) {
      result.serverCpuSeconds = cpuSeconds
      if (result.seconds > 0) result.serverCpuPercent = (100 * cpuSeconds) / result.seconds
    }
    return result
  } catch (err) {
    return { error: `server: ${err.message}` }
  } finally {
    await server.stop()
  }
}

function median(values) {
  const sorted = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b)
  if (sorted.length === 0) return null
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function format(value, digits) {
  if (value === null) return 'n/a'
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** The markdown table of one job: a row per client with the medians of its successful runs. */
function table(job, results) {
  const head = ['client', ...job.columns.map(([name]) => name)]
  const rows = [head, head.map(() => '---')]
  const problems = []
  for (const client of clients) {
    const all = results.get(client) ?? []
    const ok = all.filter((r) => r.error === undefined)
    all.forEach((r, i) => {
      if (r.error !== undefined) problems.push(`${CLIENTS[client]}, run ${i + 1}: ${r.error.split('\n')[0]}`)
      else if (r.firstError !== undefined) problems.push(`${CLIENTS[client]}, run ${i + 1}: ${r.firstError}`)
    })
    const name = ok.length === all.length ? CLIENTS[client] : `${CLIENTS[client]} (${ok.length}/${all.length} runs ok)`
    if (ok.length === 0) {
      rows.push([name, ...job.columns.map(() => 'failed')])
      continue
    }
    rows.push([name, ...job.columns.map(([, key, digits]) => format(median(ok.map((r) => r[key])), digits))])
  }
  const lines = [`### ${job.title}`, '', ...rows.map((r) => `| ${r.join(' | ')} |`)]
  if (problems.length > 0) lines.push('', ...problems.map((p) => `- ${p}`))
  return lines.join('\n')
}

const NOTES = `## How to read this

- Every client runs in a fresh Node process of its own, against a fresh load server process
  (bench/server.mjs) on 127.0.0.1; both share the machine's cores. One short warm-up stream
  precedes every measurement. The numbers are medians over the runs; the client order rotates
  from run to run.
- Clients: native-sse (\`SSEClient\`, one instance, \`doneData: '[DONE]'\`, \`reconnectCount: 0\`);
  Node's fetch with eventsource-parser; the \`eventsource\` package with a custom fetch that POSTs
  (closed on [DONE]); @microsoft/fetch-event-source (with \`window\`/\`document\` shims, which it
  needs outside a browser); and a raw node:net client that writes the request by hand and only
  counts event terminators, the floor of what any client can do in Node.
- CPU s / CPU %: process.cpuUsage() of the client process, all threads (native-sse parses on its
  own Rust threads). JS-thread s / JS busy %: the active time of
  performance.eventLoopUtilization(), i.e. the time the main thread was not idle waiting for I/O.
- Peak RSS: process.memoryUsage.rss() sampled every 50 ms; maxRSS: process.resourceUsage().maxRSS.
- B: streams are opened 50 every 20 ms; all figures cover the whole run, from the first open to the
  last [DONE]. "run s" above the nominal duration and a large "all open s" mean the client (or the
  machine) could not keep up: TCP holds events back, so that shows as time, not as lost events.
  ELD: perf_hooks.monitorEventLoopDelay at 1 ms resolution, minus that 1 ms. RSS/stream: (peak RSS
  minus RSS before the first open, after a GC) / streams. Server CPU % is the load server's CPU
  over the client's run, to show whether the server, not the client, was the limit.
- C: each event carries the server's performance.timeOrigin + performance.now(); the client
  subtracts it from its own, so the latency includes the kernel, the client's parsing and its
  delivery to JS.
- D: RSS is read after a forced GC (the client runs with --expose-gc), so growth means memory
  that stays, not garbage not yet collected.
`

async function main() {
  const command = ['node', 'bench/run.mjs', ...process.argv.slice(2)].join(' ')
  const started = new Date()
  const loadAtStart = os.loadavg()
  const sections = []
  for (const scenario of scenarios) {
    // E (relaying) has processes of its own: bench/relay.mjs, with the variants instead of --clients.
    if (scenario === 'E') {
      const { scenarioE } = await import('./relay.mjs')
      const section = await scenarioE({ runs, streams: scaled(1000, 10), seconds: Math.max(2, 10 * scale) })
      console.log(`\n${section}\n`)
      sections.push(section)
      continue
    }
    for (const job of plan(scenario)) {
      const results = new Map(clients.map((c) => [c, []]))
      for (let run = 0; run < runs; run++) {
        const shift = run % clients.length
        const order = [...clients.slice(shift), ...clients.slice(0, shift)]
        for (const client of order) {
          const t0 = performance.now()
          const result = await runJob(scenario, job, client)
          results.get(client).push(result)
          const took = ((performance.now() - t0) / 1000).toFixed(1)
          const status = result.error === undefined ? 'ok' : `FAILED: ${result.error.split('\n')[0]}`
          console.error(`[${job.title.split(':')[0]} run ${run + 1}/${runs}] ${CLIENTS[client]}: ${status} (${took} s)`)
        }
      }
      const section = table(job, results)
      console.log(`\n${section}\n`)
      sections.push(section)
    }
  }
  const cpus = os.cpus()
  const header = [
    '# native-sse benchmarks',
    '',
    `- date: ${started.toISOString()}`,
    `- node: ${process.version}`,
    `- CPU: ${cpus[0]?.model ?? 'unknown'}, ${cpus.length} cores (load average at start: ${loadAtStart
      .map((l) => l.toFixed(2))
      .join(', ')})`,
    `- open files limit: ${limits.soft}${raiseFilesTo === null ? '' : `, raised to ${raiseFilesTo} for the children`}`,
    `- command: \`${command}\``,
    `- runs: ${runs} per client and scenario, medians shown; scale ${scale}`,
  ].join('\n')
  writeFileSync(args.out, `${header}\n\n${sections.join('\n\n')}\n\n${NOTES}`)
  console.error(`wrote ${path.relative(process.cwd(), args.out) || args.out}`)
}

await main()
