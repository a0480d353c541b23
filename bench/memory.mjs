// Memory while the JS thread is blocked: a server in a child process opens STREAMS event streams
// with one event each; once every stream is open (RSS measured: the baseline), the server floods
// them with events of SIZE bytes as fast as TCP lets it while this process blocks its JS thread in
// a busy loop for BLOCK_MS, so nothing is consumed while the native side keeps reading. Reported:
// RSS before the streams, with every stream open and idle, right after the block, the peak
// (VmHWM), and the growth over the block. Bounded: STREAMS streams, one block, then everything is
// aborted.
//   node --expose-gc bench/memory.mjs [streams=1000] [size=1024] [blockMs=4000] [http2=false]
// With http2=true the server is Node's http2 over TLS (one connection, 64 KiB per stream window);
// otherwise plain HTTP/1.1 (one connection per stream). MEMORY_BATCH=k makes each server write k
// events at once (64 KiB writes with k=64 and 1 KiB events): reads then fill hyper's read buffer,
// which grows with full reads, and each read is parsed in 4 KiB pieces (see docs/http2.md).
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { SSEClient } from '../index.js'

const [streams = 1000, size = 1024, blockMs = 4000] = process.argv.slice(2, 5).map(Number)
const http2 = process.argv[5] === 'true'

if (process.argv[2] === '--server') {
  // The child: one route, an endless stream of events, written with back-pressure.
  // Each stream gets one event at once; the flood starts when the parent says "go" (once every
  // stream is open and its RSS is measured), so that the growth is the flood's alone.
  const [, , , mode, eventSize] = process.argv
  const line = `data: ${'x'.repeat(Math.max(1, Number(eventSize) - 8))}\n\n`.repeat(
    Number(process.env.MEMORY_BATCH ?? 1),
  )
  let go
  const started = new Promise((resolve) => (go = resolve))
  process.on('message', (m) => m === 'go' && go())
  const flood = async (write, drained, closed) => {
    write(line)
    await started
    for (;;) {
      if (closed()) return
      if (!write(line)) await drained()
    }
  }
  if (mode === 'h2') {
    const { createSecureServer } = await import('node:http2')
    const { selfSignedCert } = await import('../__test__/helpers/tls.mjs')
    const pair = selfSignedCert()
    const server = createSecureServer({ ...pair, settings: { maxConcurrentStreams: 100000 }, maxSessionMemory: 1000 })
    server.on('stream', (stream) => {
      stream.on('error', () => {})
      stream.respond({ ':status': 200, 'content-type': 'text/event-stream' })
      flood(
        (l) => stream.write(l),
        () => once(stream, 'drain'),
        () => stream.destroyed,
      ).catch(() => {})
    })
    server.on('session', (s) => s.on('error', () => {}))
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port, ca: pair.cert.toString() }))
  } else {
    const { createServer } = await import('node:http')
    const server = createServer((req, res) => {
      req.resume()
      res.on('error', () => {})
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      flood(
        (l) => res.write(l),
        () => once(res, 'drain'),
        () => res.destroyed,
      ).catch(() => {})
    })
    server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }))
  }
} else {
  const child = fork(fileURLToPath(import.meta.url), ['--server', http2 ? 'h2' : 'h1', String(size)])
  process.on('exit', () => child.kill('SIGKILL'))
  const [{ port, ca }] = await once(child, 'message')
  const url = http2 ? `https://127.0.0.1:${port}/sse` : `http://127.0.0.1:${port}/sse`
  const client = new SSEClient(http2 ? { ca, http2: true } : {})
  const sse = client.create()
  const mib = (n) => (n / 1048576).toFixed(0)
  const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]) * 1024
  global.gc?.()
  const start = process.memoryUsage.rss()
  let opened = 0
  let events = 0
  let errors = 0
  let allOpen
  const ready = new Promise((resolve) => (allOpen = resolve))
  const timer = setTimeout(() => allOpen(), 60000)
  for (let i = 0; i < streams; i++) {
    let first = true
    sse.post({
      url,
      reconnectCount: 0,
      timeout: 120000,
      onMessage() {
        events++
        if (first) {
          first = false
          if (++opened === streams) allOpen()
        }
      },
      onError(err) {
        if (errors++ === 0) console.error(`first error: ${err.code} ${err.message}`)
      },
    })
  }
  await ready
  clearTimeout(timer)
  global.gc?.()
  // Every stream open and idle: the baseline. The flood starts with the block.
  const before = process.memoryUsage.rss()
  const eventsBefore = events
  child.send('go')
  const end = Date.now() + blockMs
  while (Date.now() < end); // the blocked JS thread
  const after = process.memoryUsage.rss()
  const peak = hwm()
  // Let the queued deliveries run, then stop everything.
  await new Promise((resolve) => setImmediate(resolve))
  sse.abortAll()
  child.kill('SIGKILL')
  console.log(
    `${streams} streams x ${size} B events over ${http2 ? 'HTTP/2' : 'HTTP/1.1'}, JS blocked ${blockMs} ms: ` +
      `RSS ${mib(start)} MiB before the streams, ${mib(before)} with all open and idle, ${mib(after)} after the flood in the block ` +
      `(growth ${mib(after - before)} MiB, peak ${mib(peak)} MiB); ` +
      `${opened} open, ${errors} errors, ${events - eventsBefore} events delivered after the block`,
  )
  process.exit(0)
}
