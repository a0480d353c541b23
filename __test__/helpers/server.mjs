// Real servers on 127.0.0.1 for the tests: an HTTP one whose handler each test writes, and a raw TCP
// one for responses no HTTP library would send (split writes, truncated bodies, hangs).
import http from 'node:http'
import net from 'node:net'
import { once } from 'node:events'

/**
 * Starts an HTTP server. `handler(req, res, body)` runs after the request body has been read whole;
 * every request is recorded in `requests` as { method, url, headers, body: Buffer }.
 */
export async function startServer(handler) {
  const requests = []
  const sockets = new Set()
  const server = http.createServer(async (req, res) => {
    const chunks = []
    for await (const chunk of req) chunks.push(chunk)
    const body = Buffer.concat(chunks)
    requests.push({ method: req.method, url: req.url, headers: req.headers, body })
    try {
      await handler(req, res, body)
    } catch (err) {
      res.destroy(err)
    }
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${server.address().port}`
  return {
    server,
    requests,
    base,
    url: `${base}/sse`,
    /** Resolves when the client has no connection open to this server. */
    async idle() {
      while (sockets.size > 0) await once([...sockets][0], 'close')
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Starts a TCP server; `onSocket(socket, head)` gets each connection once its request head arrived. */
export async function startRawServer(onSocket) {
  const sockets = new Set()
  let connections = 0
  const server = net.createServer((socket) => {
    connections++
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    let head = ''
    const onData = (chunk) => {
      head += chunk.toString('latin1')
      if (head.includes('\r\n\r\n')) {
        socket.off('data', onData)
        onSocket(socket, head)
      }
    }
    socket.on('data', onData)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}/sse`,
    get connections() {
      return connections
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

export const SSE_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n'

/** Writes an event-stream response and ends it. */
export function sse(res, text, headers = {}) {
  res.writeHead(200, { 'content-type': 'text/event-stream', ...headers })
  res.end(text)
}

/** Resolves after `ms` milliseconds (for pacing servers, never as an assertion). */
export const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

/** Collects a request's callbacks into arrays; `done` settles to { ok, error }. */
export function collect(sse, options) {
  const got = { open: [], messages: [], errors: [], closes: 0 }
  const req = sse.post({
    onOpen: (info) => got.open.push(info),
    onMessage: (msg) => got.messages.push(msg),
    onError: (err) => got.errors.push(err),
    onClose: () => got.closes++,
    ...options,
  })
  got.req = req
  got.done = req.done.then(
    () => ({ ok: true }),
    (error) => ({ ok: false, error }),
  )
  return got
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function unusedPort() {
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/**
 * A server of named routes, like EventSource's test server. Each route answers POST and GET:
 * - /batch?n=N[&ids=1][&tail=ID]: N events `data: i` (with `id: i` if ids) and an optional
 *   id-only block `id: TAIL`, in one write, then the end;
 * - /status/CODE: that status with a JSON error body (204: no body);
 * - /html: 200 text/html;
 * - /reset: the socket is destroyed before any response;
 * - /stalled: headers, then nothing;
 * - /done?n=N: N events then `data: [DONE]`, held open;
 * - /unicode: one event of non-ASCII data.
 */
export async function startRoutes() {
  const srv = await startServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    const n = Number(url.searchParams.get('n') ?? 3)
    const path = url.pathname
    if (path === '/batch') {
      let text = ''
      for (let i = 0; i < n; i++) text += `${url.searchParams.has('ids') ? `id: ${i}\n` : ''}data: ${i}\n\n`
      if (url.searchParams.has('tail')) text += `id: ${url.searchParams.get('tail')}\n\n`
      return sse(res, text)
    }
    if (path.startsWith('/status/')) {
      const code = Number(path.slice('/status/'.length))
      if (code === 204) return res.writeHead(204).end()
      res.writeHead(code, { 'content-type': 'application/json' })
      return res.end('{"error":"nope"}')
    }
    if (path === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' })
      return res.end('<p>hi</p>')
    }
    if (path === '/reset') return req.socket.destroy()
    if (path === '/stalled') return res.writeHead(200, { 'content-type': 'text/event-stream' }).flushHeaders()
    if (path === '/done') {
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      let text = ''
      for (let i = 0; i < n; i++) text += `data: ${i}\n\n`
      return res.write(`${text}data: [DONE]\n\n`)
    }
    if (path === '/unicode') return sse(res, 'data: héllo 日本 😀\n\n')
    res.writeHead(404).end()
  })
  return { ...srv, route: (path) => `${srv.base}${path}` }
}

let sentinel = null

/**
 * A barrier for "nothing more arrives": a request through the same delivery hub that completes.
 * Records of a request aborted before it started were handed over before the sentinel's, so once
 * its end has been delivered, whatever was queued for the aborted one has been decoded (and must
 * have been dropped).
 */
export async function settle(client) {
  sentinel ??= startServer((req, res) => sse(res, 'data: sentinel\n\n', { connection: 'close' }))
  const { url, server } = await sentinel
  server.unref()
  const req = client.create().post({ url })
  await req.done
}

/** Closes the shared sentinel server (call from an `after` hook of files that used settle()). */
export async function closeSentinel() {
  if (sentinel !== null) await (await sentinel).close()
  sentinel = null
}

/**
 * A server that floods each request with `total` events `id: i` + `data: <payload>`, as fast as the
 * client reads (it waits on 'drain'). `flood.written` counts the events handed to the socket and
 * `flood.finished` is set once all of them were: what a test of back-pressure reads.
 */
export async function startFlood({ total, payload }) {
  const flood = { written: 0, finished: false }
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < total && !res.destroyed; i++) {
      flood.written++
      if (!res.write(`id: ${i}\ndata: ${payload}\n\n`)) await new Promise((resolve) => res.once('drain', resolve))
    }
    flood.finished = true
    res.end()
  })
  return Object.assign(srv, { flood })
}

/**
 * A server that writes `count` events of 4 KiB (`data: <padding>`) as fast as its socket takes them,
 * for tests of back-pressure through a consumer that stops reading. `held.stats` has `written`
 * (bytes handed to the socket) and `finished`; `held.blocked` resolves once one wait for 'drain' has
 * lasted `heldMs`: the writes are held back. `onWritten(stats)` runs after every write.
 */
export async function startHeldBack({ count = 64 * 1024, heldMs, onWritten = () => {} }) {
  const text = `data: ${'x'.repeat(4096 - 8)}\n\n`
  const stats = { written: 0, finished: false }
  let resolveBlocked
  const blocked = new Promise((resolve) => (resolveBlocked = resolve))
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < count && !res.destroyed; i++) {
      stats.written += text.length
      onWritten(stats)
      if (!res.write(text)) {
        const timer = setTimeout(resolveBlocked, heldMs)
        await new Promise((resolve) => {
          const go = () => {
            res.off('drain', go)
            res.off('close', go)
            resolve()
          }
          res.on('drain', go)
          res.on('close', go)
        })
        clearTimeout(timer)
      }
    }
    stats.finished = true
    res.end()
  })
  return Object.assign(srv, { stats, blocked })
}
