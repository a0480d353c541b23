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
