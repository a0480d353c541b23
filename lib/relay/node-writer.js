'use strict'
// The response writer of relay(): it owns a Node http.ServerResponse (Express `res`, Fastify
// `reply.raw`, Koa `ctx.res`, plain node:http, the HTTP/2 compatibility response): writes of
// event-stream text, heartbeats, back-pressure ('drain') and the downstream close.
//
// Downstream close: ServerResponse 'close' fires when the response is done or its connection went
// away, whatever the framework (it is the `res` event, not the request's, which fires when the
// request body has been read). Before the writer ended the response, it means the browser left.

const { createHeartbeat } = require('./event-stream.js')

/**
 * `onClose()` runs once if the downstream goes away before `end()`. Returns { open(), write(text):
 * boolean (false when the socket's buffer is full), drained(): Promise<void>, end(text?),
 * release(), closed, ended }. `open()` starts the heartbeat once the headers are out; `write` takes
 * any run of complete events as one string; `release()` lets go of a response it never answered.
 */
function createResponseWriter(res, { interval, onClose }) {
  let waiter = null
  // Our own record of a write that returned false, not res.writableNeedDrain: the HTTP/2
  // compatibility response (http2's Http2ServerResponse) does not have that property.
  let needDrain = false
  let heartbeat = null
  const writer = {
    open() {
      if (heartbeat !== null || writer.closed || writer.ended) return
      heartbeat = createHeartbeat(interval, (comment) => {
        if (!needDrain && !res.write(comment)) needDrain = true
      })
    },
    closed: false,
    ended: false,
    write(text) {
      if (writer.closed || writer.ended) return false
      heartbeat?.touch()
      if (res.write(text)) return true
      needDrain = true
      return false
    },
    drained() {
      if (writer.closed || writer.ended || !needDrain) return Promise.resolve()
      return new Promise((resolve) => {
        waiter = resolve
      })
    },
    end(text) {
      if (writer.closed || writer.ended) return
      writer.ended = true
      stop()
      if (text) res.end(text)
      else res.end()
    },
    release() {
      if (writer.closed || writer.ended) return
      writer.ended = true
      stop()
    },
  }
  const wake = () => {
    needDrain = false
    const w = waiter
    waiter = null
    w?.()
  }
  const stop = () => {
    heartbeat?.stop()
    res.off('drain', wake)
  }
  res.on('drain', wake)
  res.once('close', () => {
    if (writer.ended) return
    writer.closed = true
    stop()
    onClose()
    wake()
  })
  return writer
}

module.exports = { createResponseWriter }
