// Measures how many small events a stream survives over HTTP/2 before h2's small-DATA-frame budget
// ends the connection (NETWORK "too_many_data_frames"), for each path: Node's http2 server direct,
// nginx (http2 over TLS) proxying to a Node HTTP/1.1 upstream, and a squid CONNECT tunnel to the
// Node http2 server. Bounded: each run sends at most COUNT events and stops after 60 s.
//   node scripts/h2-frames.mjs [count=10000] [size=16] [runs=3] [paths=direct,nginx,squid] [blockMs=0]
// blockMs > 0 blocks the JS thread that long after the first event (a slow consumer), which is the
// condition that lets DATA frames pile up unread in h2.
import http from 'node:http'
import { SSEClient } from '../index.js'
import { startH2Server, startNginxH2, startSquid, SSE_HEADERS, writeEvents } from '../__test__/helpers/h2.mjs'

const [count = 10000, size = 16, runs = 3] = process.argv.slice(2, 5).map(Number)
const paths = (process.argv[5] ?? 'direct,nginx,squid').split(',')
const blockMs = Number(process.argv[6] ?? 0)

function once(client, url) {
  return new Promise((resolve) => {
    let n = 0
    let blocked = false
    const timer = setTimeout(() => req.abort(), 60000)
    const req = client.create().post({
      url,
      body: { count, size },
      reconnectCount: 0,
      onMessage() {
        n++
        if (blockMs > 0 && !blocked) {
          blocked = true
          const end = Date.now() + blockMs
          while (Date.now() < end);
        }
      },
      onError(err) {
        clearTimeout(timer)
        resolve({ n, error: `${err.code} ${err.message}` })
      },
      onClose() {
        clearTimeout(timer)
        resolve({ n, error: null })
      },
    })
  })
}

const h2 = await startH2Server((stream) => {
  stream.respond(SSE_HEADERS)
  return writeEvents(stream, count, size)
})
const upstream = http.createServer(async (req, res) => {
  req.resume()
  res.writeHead(200, { 'content-type': 'text/event-stream' })
  const line = `data: ${'x'.repeat(Math.max(1, size - 8))}\n\n`
  for (let i = 0; i < count && !res.destroyed; i++) await new Promise((r) => res.write(line, r))
  res.end()
})
upstream.listen(0, '127.0.0.1')
await new Promise((r) => upstream.once('listening', r))
for (const path of paths) {
  let target
  let client
  let stop = async () => {}
  if (path === 'direct') {
    client = new SSEClient({ ca: h2.ca, http2: true })
    target = h2.url
  } else if (path === 'nginx') {
    const nginx = await startNginxH2(`http://127.0.0.1:${upstream.address().port}`)
    if (!nginx) {
      console.log('nginx: not installed')
      continue
    }
    client = new SSEClient({ ca: nginx.ca, http2: true })
    target = nginx.url
    stop = () => nginx.stop()
  } else if (path === 'squid') {
    const squid = await startSquid()
    if (!squid) {
      console.log('squid: not installed')
      continue
    }
    client = new SSEClient({ ca: h2.ca, proxy: squid.url, http2: true })
    target = h2.url
    stop = () => squid.stop()
  }
  for (let r = 0; r < runs; r++) {
    const res = await once(client, target)
    console.log(
      `${path} run ${r + 1}: ${res.n}/${count} events of ${size} B${res.error ? ' then ' + res.error : ' (clean end)'}`,
    )
  }
  await stop()
}
await h2.close()
upstream.close()
