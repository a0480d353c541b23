'use strict'
// The response writer of relay(): it owns a Node http.ServerResponse (Express `res`, Fastify
// `reply.raw`, Koa `ctx.res`, plain node:http, the HTTP/2 compatibility response): writes of
// event-stream text, heartbeats, back-pressure ('drain') and the downstream close.
//
// Coalescing (`coalesce` ms > 0): a write after a quiet window goes out at once and opens a window;
// what is written during it is joined and goes out in one write when it closes, and the window
// stays open while writes keep coming. One `writev` per window instead of one per delivery: at 40
// events/s per stream a 16 ms window removes most of them, and the first event of a burst is never
// held back. end() sends what is held first.
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
 * `coalesce`: the window in ms (0: none).
 */
function createResponseWriter(res, { interval, onClose, coalesce = 0 }) {
  let waiter = null
  // Our own record of a write that returned false, not res.writableNeedDrain: the HTTP/2
  // compatibility response (http2's Http2ServerResponse) does not have that property.
  let needDrain = false
  let heartbeat = null
  // The coalescing window: its timer while open, and what is held for its end.
  let window = null
  let held = ''
  const send = (text) => {
    if (res.write(text)) return true
    needDrain = true
    return false
  }
  const closeWindow = () => {
    if (held === '') {
      window = null
      return
    }
    const text = held
    held = ''
    send(text)
    window = setTimeout(closeWindow, coalesce)
  }
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
      if (coalesce <= 0) return send(text)
      if (window !== null) {
        held += text
        return !needDrain
      }
      window = setTimeout(closeWindow, coalesce)
      return send(text)
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
      const last = held + (text ?? '')
      held = ''
      if (last) res.end(last)
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
    if (window !== null) clearTimeout(window)
    window = null
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
