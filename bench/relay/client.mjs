// Scenario E's downstream clients: one process opens `streams` event-stream requests to the relay
// (in batches, as browsers arrive), parses every response and checks every event. Started by
// bench/relay.mjs with a JSON config in argv[2]; prints one JSON line:
//   { events, corrupted, errors, incomplete, latencies: [ms...], firsts: [ms...] }
// latencies: server stamp ("t" in each event) to this process's parse of it; firsts: request sent to
// the first event parsed, per stream. An event is valid when its data is the load server's chunk
// (`chat.completion.chunk` with content "tok") or the transform's `{ token: "tok" }`, with a stamp.
import http from 'node:http'
import { performance } from 'node:perf_hooks'

const config = JSON.parse(process.argv[2])
const agent = new http.Agent({ keepAlive: false, maxSockets: Infinity })
const out = { events: 0, corrupted: 0, errors: 0, incomplete: 0, latencies: [], firsts: [] }
const now = () => performance.timeOrigin + performance.now()

// The select variants send the token alone: valid, but without a stamp (no latency).
const UNSTAMPED = -1

function check(data) {
  if (data === 'tok') return UNSTAMPED
  try {
    const v = JSON.parse(data)
    if (typeof v.t !== 'number') return null
    if (v.token === 'tok') return v.t
    if (v.object === 'chat.completion.chunk' && v.choices?.[0]?.delta?.content === 'tok') return v.t
  } catch {
    // counted as corrupted below
  }
  return null
}

function stream() {
  return new Promise((resolve) => {
    const sent = now()
    let first = true
    let buffer = ''
    let count = 0
    const req = http.request(config.url, {
      method: 'POST',
      agent,
      headers: { accept: 'text/event-stream', 'content-length': 0 },
    })
    req.on('response', (res) => {
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        buffer += chunk
        let end
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, end)
          buffer = buffer.slice(end + 2)
          // Comments, and the terminal `event: end` of a resumable relay (its log's end).
          if (block.startsWith(':') || block.startsWith('event: end\n')) continue
          const at = block.indexOf('data: ')
          if (at === -1) {
            out.corrupted++
            continue
          }
          const data = block.slice(at + 6)
          if (data === '[DONE]') continue
          const t = check(data)
          if (t === null) {
            out.corrupted++
            continue
          }
          const arrived = now()
          if (first) {
            first = false
            out.firsts.push(arrived - sent)
          }
          out.events++
          count++
          if (t !== UNSTAMPED) out.latencies.push(Math.round((arrived - t) * 100) / 100)
        }
      })
      res.on('end', () => {
        if (count !== config.count) out.incomplete++
        resolve()
      })
      res.on('error', () => {
        out.errors++
        resolve()
      })
    })
    req.on('error', () => {
      out.errors++
      resolve()
    })
    req.end()
  })
}

const all = []
while (all.length < config.streams) {
  const batch = Math.min(config.openBatch, config.streams - all.length)
  for (let i = 0; i < batch; i++) all.push(stream())
  if (all.length < config.streams) await new Promise((resolve) => setTimeout(resolve, config.openEveryMs))
}
await Promise.all(all)
process.stdout.write(`${JSON.stringify(out)}\n`, () => process.exit(0))
