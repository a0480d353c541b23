// Helpers for the relay tests: a downstream client that records the raw bytes and the events it
// parses (eventsource-parser), with waits that resolve on data, never on timers.
import http from 'node:http'
import { once } from 'node:events'
import { messageParser } from './event-stream.mjs'

/**
 * Sends a request to `url` and reads the response as an event stream. Returns
 * { response (Promise of the IncomingMessage), text, events, comments, ended, until(pred), close() }.
 * `events` hold { data, event, id (in force), retry? }; `until(pred)` resolves once pred(client) is
 * true, checked after every chunk and at the end; it rejects if the response ends first.
 */
export function downstream(url, { method = 'POST', body, headers = {} } = {}) {
  const client = {
    text: '',
    events: [],
    comments: [],
    ended: false,
    error: null,
    chunks: [],
  }
  const parser = messageParser(
    (msg) => client.events.push(msg),
    (c) => client.comments.push({ text: c, at: performance.now(), offset: client.text.length }),
  )
  const watchers = new Set()
  const check = () => {
    for (const w of watchers) {
      if (w.pred(client)) {
        watchers.delete(w)
        w.resolve(client)
      } else if (client.ended) {
        watchers.delete(w)
        w.reject(
          new Error(`the response ended before the condition held; got ${JSON.stringify(client.text.slice(-500))}`),
        )
      }
    }
  }
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body)
  const req = http.request(url, {
    method,
    headers: { accept: 'text/event-stream', ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
  })
  client.req = req
  client.response = new Promise((resolve, reject) => {
    req.on('response', (res) => {
      client.res = res
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        client.chunks.push({ chunk, at: performance.now() })
        client.text += chunk
        parser.feed(chunk)
        check()
      })
      res.on('end', () => {
        client.ended = true
        check()
      })
      res.on('error', () => {})
      resolve(res)
    })
    req.on('error', (err) => {
      client.error = err
      client.ended = true
      check()
      reject(err)
    })
  })
  client.response.catch(() => {})
  req.end(payload)
  client.until = (pred) =>
    new Promise((resolve, reject) => {
      const w = { pred, resolve, reject }
      watchers.add(w)
      check()
    })
  client.close = () => req.destroy()
  return client
}

/**
 * A node:http server on 127.0.0.1 whose every request is `handler(req, res)`. Returns
 * { url, server, close() } (close() ends open connections first).
 */
export async function startHttp(handler) {
  const server = http.createServer(handler)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    server,
    url: `http://127.0.0.1:${server.address().port}/`,
    async close() {
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

/** A promise and its resolve function, for handing a moment from one side of a test to the other. */
export function signal() {
  let resolve
  const promise = new Promise((r) => {
    resolve = r
  })
  return { promise, resolve }
}
