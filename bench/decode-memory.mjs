// Memory of compressed streams: a server in a child process sends STREAMS long event streams
// (EVENTS events of about 1 KB, flushed every 50) compressed with CODING (br: Node's brotli encoder
// at quality 4 and its default window of 4 MiB; gzip: its 32 KiB window), and this process reads
// them all at once with `accept-encoding` set to that coding. Reported: the peak RSS growth over
// the run. A brotli decoder's ring buffer grows with the output up to the stream's window and stays
// for the stream's life; gzip's window is 32 KiB. Bounded: STREAMS streams of EVENTS events.
//   node --expose-gc bench/decode-memory.mjs [coding=br] [streams=50] [events=6000]
import { fork } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import zlib from 'node:zlib'
import { fileURLToPath } from 'node:url'

const [coding = 'br', streams = '50', events = '6000'] = process.argv.slice(2)

if (process.env.DECODE_MEMORY_SERVER === '1') {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': coding })
    const z =
      coding === 'br'
        ? zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 } })
        : zlib.createGzip()
    z.pipe(res)
    let i = 0
    const more = () => {
      while (i < Number(events)) {
        const ok = z.write(`data: ${i} ${Math.random().toString(36).repeat(90)}\n\n`)
        i++
        if (i % 50 === 0) z.flush()
        if (!ok) return z.once('drain', more)
      }
      z.end()
    }
    more()
  })
  server.listen(0, '127.0.0.1', () => process.send(server.address().port))
} else {
  const { SSEClient } = await import('../index.mjs')
  const child = fork(fileURLToPath(import.meta.url), process.argv.slice(2), {
    env: { ...process.env, DECODE_MEMORY_SERVER: '1' },
  })
  const [port] = await once(child, 'message')
  globalThis.gc?.()
  const before = process.memoryUsage().rss
  const client = new SSEClient()
  const sse = client.create()
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
  let got = 0
  const results = await Promise.all(
    Array.from({ length: Number(streams) }, () =>
      sse
        .post({
          url: `http://127.0.0.1:${port}/`,
          method: 'GET',
          headers: { 'accept-encoding': coding },
          reconnectCount: 0,
          onMessage: () => got++,
        })
        .done.then(
          () => 'ok',
          (err) => err.code,
        ),
    ),
  )
  clearInterval(sampler)
  const failed = results.filter((r) => r !== 'ok').length
  console.log(
    `${streams} ${coding} streams of ${events} events: ${got} events, ${failed} failed; ` +
      `RSS peak growth ${((peak - before) / 2 ** 20).toFixed(1)} MiB ` +
      `(${((peak - before) / 1024 / Number(streams)).toFixed(0)} KiB a stream)`,
  )
  child.kill()
  client.close()
}
