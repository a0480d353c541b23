// The load server of the benchmarks, run as a child process of run.mjs (fork, with an IPC channel).
// It listens on 127.0.0.1 only and streams OpenAI-style chat.completion.chunk events:
//
//   POST /stream  {"count": 1000, "rate": 0, "ts": false}   (or the same as a query string)
//
//   count  events before the final `data: [DONE]`
//   rate   events per second per stream; 0 writes them as fast as the socket takes them
//   ts     each event carries "t": the server's performance.timeOrigin + performance.now() in ms
//
// It must not be the bottleneck on a small machine, where it shares the cores with the client under
// test. 5,000 streams at 40 events/s are 200,000 socket writes a second, and node:http spends about
// as much CPU on its own framing per write as the kernel does on the write itself, so this server
// speaks the little HTTP/1.1 the benchmark needs over node:net: every response is chunked and every
// chunk is encoded once and written with one socket.write. Unpaced streams write 64 KiB chunks;
// every paced stream is served by one shared timer (a tick every 25 ms that writes what is due to
// every socket), not by a timer per stream.
//
// HTTP subset: one request at a time per connection (no pipelining; the next request on a
// keep-alive connection is read once the response is over), request bodies with Content-Length
// only, keep-alive unless the request says `connection: close` or is HTTP/1.0.
//
// IPC: it sends {port} once listening; it answers 'stats' with its own CPU time since the last
// 'stats' (so run.mjs can show how busy the server was) and exits on 'exit'.
import net from 'node:net'
import { performance } from 'node:perf_hooks'

const TICK_MS = 25
const BLOCK_BYTES = 64 * 1024
const MAX_COUNT = 100_000_000
const MAX_HEAD_BYTES = 16 * 1024
const MAX_BODY_BYTES = 1024 * 1024

const HEAD = 'data: {"id":"chatcmpl-bench","object":"chat.completion.chunk","created":1700000000,"model":"bench-1",'
const TAIL = '"choices":[{"index":0,"delta":{"content":"tok"},"finish_reason":null}]}\n\n'
const EVENT = HEAD + TAIL
const EVENT_BYTES = Buffer.byteLength(EVENT)
const BLOCK_EVENTS = Math.max(1, Math.floor(BLOCK_BYTES / EVENT_BYTES))

/** One HTTP chunk: size line, data, CRLF. */
function frame(data) {
  const bytes = Buffer.from(data)
  return Buffer.concat([Buffer.from(`${bytes.length.toString(16)}\r\n`), bytes, Buffer.from('\r\n')])
}

// All events without a timestamp are identical, so the chunks of n of them are made once.
const BLOCK_FRAME = frame(EVENT.repeat(BLOCK_EVENTS))
const plainFrames = new Map()
function plainFrame(n) {
  if (n === BLOCK_EVENTS) return BLOCK_FRAME
  let bytes = plainFrames.get(n)
  if (bytes === undefined) {
    bytes = frame(EVENT.repeat(n))
    // Bounded: n is a remainder of a block or a tick's catch-up, so only a few sizes ever occur.
    if (plainFrames.size < 1024) plainFrames.set(n, bytes)
  }
  return bytes
}

/** A chunk of n events, stamped with the current time when `ts` is set. */
function eventsFrame(n, ts) {
  if (!ts) return plainFrame(n)
  const t = (performance.timeOrigin + performance.now()).toFixed(3)
  return frame(`${HEAD}"t":${t},${TAIL}`.repeat(n))
}

// The [DONE] event and the last chunk, which ends the response.
const END = Buffer.concat([frame('data: [DONE]\n\n'), Buffer.from('0\r\n\r\n')])
const OK_HEAD = Buffer.from(
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n' +
    'transfer-encoding: chunked\r\n\r\n',
)

function plainResponse(status, reason, text, close) {
  return Buffer.from(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(text)}\r\n` +
      `${close ? 'connection: close\r\n' : ''}\r\n${text}`,
  )
}

/** Reads count, rate and ts from the query string, then from a JSON body (the body wins). */
function parseParams(query, raw) {
  const params = {
    count: Number(query.get('count') ?? 10),
    rate: Number(query.get('rate') ?? 0),
    ts: query.get('ts') === '1' || query.get('ts') === 'true',
  }
  if (raw.length > 0) {
    const body = JSON.parse(raw)
    if (body.count !== undefined) params.count = Number(body.count)
    if (body.rate !== undefined) params.rate = Number(body.rate)
    if (body.ts !== undefined) params.ts = Boolean(body.ts)
  }
  if (!Number.isInteger(params.count) || params.count < 0 || params.count > MAX_COUNT) throw new Error('bad count')
  if (!Number.isFinite(params.rate) || params.rate < 0) throw new Error('bad rate')
  return params
}

/** Resolves when the socket can take more, or is gone. */
function writable(socket) {
  return new Promise((resolve) => {
    const done = () => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

/** The unpaced stream: 64 KiB chunks, waiting for 'drain' when the socket buffer is full. */
async function streamFast(conn, { count, ts }) {
  const { socket } = conn
  let left = count
  while (left > 0 && !socket.destroyed) {
    const n = Math.min(left, BLOCK_EVENTS)
    left -= n
    if (!socket.write(eventsFrame(n, ts))) await writable(socket)
  }
  if (!socket.destroyed) finishResponse(conn, END)
}

// Every paced stream: { conn, count, rate, ts, sent, start }. One timer serves them all.
const paced = new Set()
let ticker = null

function tick() {
  const now = performance.now()
  // Streams due the same number of events in one tick share one chunk (and one timestamp); the key
  // of timestamped chunks is negative so that the two kinds never share one.
  const cache = new Map()
  for (const s of paced) {
    if (s.conn.socket.destroyed) {
      paced.delete(s)
      continue
    }
    // The first event goes out at once, then one every 1000 / rate ms.
    const due = Math.min(s.count, Math.floor(((now - s.start) * s.rate) / 1000) + 1)
    const n = due - s.sent
    if (n <= 0) continue
    const key = s.ts ? -n : n
    let bytes = cache.get(key)
    if (bytes === undefined) {
      bytes = eventsFrame(n, s.ts)
      cache.set(key, bytes)
    }
    s.sent = due
    if (s.sent < s.count) {
      s.conn.socket.write(bytes)
    } else {
      paced.delete(s)
      finishResponse(s.conn, Buffer.concat([bytes, END]))
    }
  }
  if (paced.size === 0) {
    clearInterval(ticker)
    ticker = null
  }
}

function startPaced(conn, params) {
  paced.add({ conn, count: params.count, rate: params.rate, ts: params.ts, sent: 0, start: performance.now() })
  if (ticker === null) {
    ticker = setInterval(tick, TICK_MS)
    // Serve the first event now rather than up to one tick later.
    setImmediate(tick)
  }
}

/** Writes the last bytes of a response, then closes or reads the next request. */
function finishResponse(conn, bytes) {
  conn.busy = false
  if (conn.close) {
    conn.socket.end(bytes)
    return
  }
  conn.socket.write(bytes)
  readRequests(conn)
}

function handleRequest(conn, method, target, body) {
  const url = new URL(target, 'http://127.0.0.1')
  if (url.pathname !== '/stream') {
    conn.socket.write(plainResponse(404, 'Not Found', 'not found', conn.close))
    if (conn.close) conn.socket.end()
    return
  }
  let params
  try {
    if (method !== 'POST' && method !== 'GET') throw new Error(`method ${method} not allowed`)
    params = parseParams(url.searchParams, body.toString())
  } catch (err) {
    conn.socket.write(plainResponse(400, 'Bad Request', String(err.message), conn.close))
    if (conn.close) conn.socket.end()
    return
  }
  conn.busy = true
  conn.socket.write(OK_HEAD)
  if (params.count === 0) {
    finishResponse(conn, END)
  } else if (params.rate === 0) {
    streamFast(conn, params)
  } else {
    startPaced(conn, params)
  }
}

/** Parses and serves the requests buffered on a connection, one at a time. */
function readRequests(conn) {
  while (!conn.busy && !conn.socket.destroyed) {
    const headEnd = conn.buffer.indexOf('\r\n\r\n')
    if (headEnd === -1) {
      if (conn.buffer.length > MAX_HEAD_BYTES) conn.socket.destroy()
      return
    }
    const lines = conn.buffer.toString('latin1', 0, headEnd).split('\r\n')
    const [method, target, version] = lines[0].split(' ')
    const headers = new Map()
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim())
    }
    conn.close = version !== 'HTTP/1.1' || (headers.get('connection') ?? '').toLowerCase() === 'close'
    if (headers.has('transfer-encoding')) {
      conn.socket.end(plainResponse(411, 'Length Required', 'send the body with content-length', true))
      return
    }
    const length = Number(headers.get('content-length') ?? 0)
    if (!Number.isInteger(length) || length < 0 || length > MAX_BODY_BYTES) {
      conn.socket.end(plainResponse(400, 'Bad Request', 'bad content-length', true))
      return
    }
    const bodyStart = headEnd + 4
    if (conn.buffer.length < bodyStart + length) return
    const body = conn.buffer.subarray(bodyStart, bodyStart + length)
    conn.buffer = conn.buffer.subarray(bodyStart + length)
    handleRequest(conn, method, target, body)
  }
}

const server = net.createServer({ noDelay: true }, (socket) => {
  const conn = { socket, buffer: Buffer.alloc(0), busy: false, close: false }
  socket.on('data', (data) => {
    conn.buffer = conn.buffer.length === 0 ? data : Buffer.concat([conn.buffer, data])
    readRequests(conn)
  })
  // A client that goes away mid-stream is the client's business; the streams notice `destroyed`.
  socket.on('error', () => {})
})

let cpuMark = process.cpuUsage()
process.on('message', (msg) => {
  if (msg === 'stats') {
    const cpu = process.cpuUsage(cpuMark)
    cpuMark = process.cpuUsage()
    process.send({ stats: { cpuSeconds: (cpu.user + cpu.system) / 1e6 } })
  } else if (msg === 'exit') {
    process.exit(0)
  }
})
// The parent going away closes the IPC channel: do not outlive it.
process.on('disconnect', () => process.exit(0))

// Thousands of clients connecting within a second overflow the default backlog of 511 (the kernel
// caps this value at net.core.somaxconn).
server.listen({ host: '127.0.0.1', port: 0, backlog: 8192 }, () => {
  process.send({ port: server.address().port })
})
