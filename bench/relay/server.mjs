// Scenario E's relay process: one node:http server on 127.0.0.1 that relays, for every downstream
// request, one upstream stream from the load server (bench/server.mjs) to the downstream client, the
// way named by its variant (argv[2]):
//
//   relay      sse.relay(res, options)                     (native-sse, no per-event JS with issue 9's text path)
//   transform  sse.relay(res, { transform })               (picks the token out of each chunk: one JSON.parse)
//   readable   stream().toReadableStream({ format: 'sse' }) piped to res through Readable.fromWeb
//   callbacks  post() with onMessage writing `data: ...` to res (what users can write today)
//   fetch      fetch + eventsource-parser + hand re-encoding
//   raw        the fetch body piped to res as bytes (the floor: not event-aware)
//   resumable  sse.relay(res, { resumable: { id } }) on the in-process store (every event logged)
//   resumable-redis  the same on Redis (config.storeUrl, a redis-server started by bench/relay.mjs)
//   select     sse.relay(res, { select: '/choices/0/delta/content' })  (the token picked natively)
//   transform-select  sse.relay(res, { transform }) picking the same token in JS (JSON.parse)
//   coalesce   sse.relay(res, { coalesce: 16 })
//
// Every res.write/res.end call is counted (`writes` in the stats): one call is one socket write.
//
// The upstream body is { count, rate, ts: true } from argv[3] (JSON), except that a downstream request
// with ?count=N (the warm-up) asks for N events at full speed. IPC: sends {port}; 'start' resets the
// marks (CPU of all threads, event-loop delay, RSS baseline after a GC, peak RSS sampling); 'stats'
// answers with the measurements since 'start'; 'exit' exits.
import http from 'node:http'
import { Readable } from 'node:stream'
import { monitorEventLoopDelay, performance } from 'node:perf_hooks'
import { createParser } from 'eventsource-parser'
import { SSEClient } from '../../index.mjs'

const variant = process.argv[2]
const config = JSON.parse(process.argv[3])
const upstreamUrl = config.upstreamUrl
const sse = new SSEClient(config.storeUrl ? { store: config.storeUrl } : undefined).create()
let generation = 0
const relay = (res, options) => sse.relay(res, options)
const readable = (stream, options) => stream.toReadableStream(options)

const HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' }
function open(res) {
  res.writeHead(200, HEADERS)
  res.flushHeaders()
}

let writes = 0
for (const name of ['write', 'end']) {
  const original = http.ServerResponse.prototype[name]
  http.ServerResponse.prototype[name] = function counted(...args) {
    writes++
    return original.apply(this, args)
  }
}

const variants = {
  relay(res, body) {
    relay(res, { url: upstreamUrl, body, doneData: '[DONE]', reconnectCount: 0 })
  },
  select(res, body) {
    relay(res, {
      url: upstreamUrl,
      body,
      doneData: '[DONE]',
      reconnectCount: 0,
      select: '/choices/0/delta/content',
      selectMissing: 'drop',
    })
  },
  'transform-select'(res, body) {
    relay(res, {
      url: upstreamUrl,
      body,
      doneData: '[DONE]',
      reconnectCount: 0,
      transform(msg) {
        const token = JSON.parse(msg.data).choices[0]?.delta?.content
        return token === undefined ? null : { data: token }
      },
    })
  },
  coalesce(res, body) {
    relay(res, { url: upstreamUrl, body, doneData: '[DONE]', reconnectCount: 0, coalesce: 16 })
  },
  transform(res, body) {
    relay(res, {
      url: upstreamUrl,
      body,
      doneData: '[DONE]',
      reconnectCount: 0,
      transform(msg) {
        const chunk = JSON.parse(msg.data)
        const token = chunk.choices[0]?.delta?.content
        return token ? { data: JSON.stringify({ token, t: chunk.t }) } : null
      },
    })
  },
  resumable(res, body) {
    relay(res, {
      url: upstreamUrl,
      body,
      doneData: '[DONE]',
      reconnectCount: 0,
      resumable: { id: `bench-${process.pid}-${++generation}` },
    })
  },
  'resumable-redis'(res, body) {
    variants.resumable(res, body)
  },
  readable(res, body) {
    open(res)
    const stream = sse.stream({ url: upstreamUrl, body, doneData: '[DONE]', reconnectCount: 0 })
    const node = Readable.fromWeb(readable(stream, { format: 'sse' }))
    node.pipe(res)
    res.on('close', () => node.destroy())
  },
  callbacks(res, body) {
    open(res)
    const req = sse.post({
      url: upstreamUrl,
      body,
      doneData: '[DONE]',
      reconnectCount: 0,
      onMessage({ data }) {
        res.write(`data: ${data}\n\n`)
      },
      onError(err) {
        if (!err.willRetry)
          res.end(`event: error\ndata: ${JSON.stringify({ code: err.code, message: err.message })}\n\n`)
      },
      onClose() {
        res.end()
      },
    })
    res.on('close', () => req.abort())
  },
  async fetch(res, body) {
    open(res)
    const abort = new AbortController()
    res.on('close', () => abort.abort())
    try {
      const up = await fetch(upstreamUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify(body),
        signal: abort.signal,
      })
      const parser = createParser({
        onEvent(e) {
          if (e.data !== '[DONE]') res.write(`data: ${e.data.split('\n').join('\ndata: ')}\n\n`)
        },
      })
      const decoder = new TextDecoder()
      for await (const chunk of up.body) parser.feed(decoder.decode(chunk, { stream: true }))
      res.end()
    } catch (err) {
      if (!res.destroyed)
        res.end(`event: error\ndata: ${JSON.stringify({ code: 'NETWORK', message: err.message })}\n\n`)
    }
  },
  async raw(res, body) {
    open(res)
    const abort = new AbortController()
    res.on('close', () => abort.abort())
    try {
      const up = await fetch(upstreamUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify(body),
        signal: abort.signal,
      })
      Readable.fromWeb(up.body)
        .on('error', () => res.destroy())
        .pipe(res)
    } catch {
      res.destroy()
    }
  },
}
const handle = variants[variant]
if (handle === undefined) throw new Error(`unknown variant ${variant}`)

const server = http.createServer({ noDelay: true, keepAliveTimeout: 60_000 }, (req, res) => {
  const warm = new URL(req.url, 'http://x').searchParams.get('count')
  const body = warm ? { count: Number(warm), rate: 0, ts: true } : { count: config.count, rate: config.rate, ts: true }
  req.resume()
  handle(res, body)
})
server.maxConnections = 100_000

let marks = null
let peakRss = 0
let sampler = null
const delay = monitorEventLoopDelay({ resolution: 1 })
process.on('message', (msg) => {
  if (msg === 'start') {
    globalThis.gc?.()
    const rss = process.memoryUsage.rss()
    marks = { cpu: process.cpuUsage(), at: performance.now(), rss, writes }
    peakRss = rss
    clearInterval(sampler)
    sampler = setInterval(() => {
      peakRss = Math.max(peakRss, process.memoryUsage.rss())
    }, 50)
    delay.reset()
    delay.enable()
  } else if (msg === 'stats') {
    const cpu = process.cpuUsage(marks.cpu)
    delay.disable()
    clearInterval(sampler)
    const beyondTimer = (ns) => Math.max(0, ns / 1e6 - 1)
    process.send({
      stats: {
        cpuSeconds: (cpu.user + cpu.system) / 1e6,
        writes: writes - marks.writes,
        wallSeconds: (performance.now() - marks.at) / 1000,
        eldP50Ms: beyondTimer(delay.percentile(50)),
        eldP99Ms: beyondTimer(delay.percentile(99)),
        baselineRssMB: marks.rss / 2 ** 20,
        peakRssMB: Math.max(peakRss, process.memoryUsage.rss()) / 2 ** 20,
      },
    })
  } else if (msg === 'exit') {
    process.exit(0)
  }
})
process.on('disconnect', () => process.exit(0))
server.listen({ host: '127.0.0.1', port: 0, backlog: 8192 }, () => process.send({ port: server.address().port }))
