// relay(sse, res, options): one upstream SSE request relayed to a Node http.ServerResponse (Express
// `res`, Fastify `reply.raw`, Koa `ctx.res`, plain node:http) as an event stream.
//
// The relay is two halves with one string between them:
// - the sink (`createSink`) owns the response: headers, writes of event-stream text, heartbeats,
//   back-pressure ('drain') and the downstream close. Its `write(text)` takes any run of complete
//   events as one string and returns false when the socket's buffer is full.
// - the source feeds it: `textWriter(request, sink)` is the one function that takes event-stream
//   text, writes it, and when the socket's buffer is full pauses the request's native reader
//   (`_pause()`, the mechanism stream() uses) until 'drain'. Today the request's onMessage
//   re-encodes each message (createEncoder: ids only when they change) and hands the text to it;
//   with no transform the relay needs no message object at all, and the native side can hand the
//   re-framed text of a whole batch to the same function instead (issue 9's internal option).
//   The request is `sse.request()` with onMessage rather than `sse.stream()`: an async iterator
//   costs a promise per event on the JS thread (scenario E: 300 streams, 43.7 against 33.4 µs of
//   CPU per relayed event), and back-pressure is the same pause either way.
//
// Downstream close: ServerResponse 'close' fires when the response is done or its connection went
// away, whatever the framework (it is the `res` event, not the request's, which fires when the
// request body has been read). Before the relay ended the response, it means the browser left: the
// upstream is aborted in the same turn.
'use strict'

const { createEncoder, encodeComment, encodeEvent } = require('./encode.js')
const { requestMethod } = require('./options.js')
const { SseRequest } = require('./request.js')
const { terminalEvent, heartbeatMs, EVENT_STREAM_HEADERS } = require('./adapters.js')

const HEARTBEAT = encodeComment()

/**
 * The response side. `onClose()` runs once if the downstream goes away before `end()`.
 * Returns { write(text): boolean, drained(): Promise<void>, end(text?), closed, ended }.
 */
function createSink(res, { interval, onClose }) {
  let timer = null
  let waiter = null
  // When the last write went out, for the heartbeat: a clock read per write is about a tenth of
  // re-arming a timer per write (timer.refresh(), about 250 ns here).
  let lastWrite = 0
  // Our own record of a write that returned false, not res.writableNeedDrain: the HTTP/2
  // compatibility response (http2's Http2ServerResponse) does not have that property.
  let needDrain = false
  const sink = {
    closed: false,
    ended: false,
    write(text) {
      if (sink.closed || sink.ended) return false
      if (interval > 0) lastWrite = Date.now()
      if (res.write(text)) return true
      needDrain = true
      return false
    },
    drained() {
      if (sink.closed || sink.ended || !needDrain) return Promise.resolve()
      return new Promise((resolve) => {
        waiter = resolve
      })
    },
    end(text) {
      if (sink.closed || sink.ended) return
      sink.ended = true
      stop()
      if (text) res.end(text)
      else res.end()
    },
  }
  const wake = () => {
    needDrain = false
    const w = waiter
    waiter = null
    w?.()
  }
  const stop = () => {
    if (timer !== null) {
      clearTimeout(timer)
      timer = null
    }
    res.off('drain', wake)
  }
  res.on('drain', wake)
  res.once('close', () => {
    if (sink.ended) return
    sink.closed = true
    stop()
    onClose()
    wake()
  })
  if (interval > 0) {
    // A comment goes out once `interval` ms passed since the last write, and only between events
    // (writes are whole events); the timer wakes once per interval at most, whatever the event
    // rate. Not while the socket is backed up: a heartbeat then would only add to the buffer of a
    // connection that is evidently alive.
    lastWrite = Date.now()
    const beat = () => {
      if (sink.closed || sink.ended) return
      const now = Date.now()
      const idle = now - lastWrite
      if (idle >= interval) {
        if (!needDrain && !res.write(HEARTBEAT)) needDrain = true
        lastWrite = now
        timer = setTimeout(beat, interval)
      } else {
        timer = setTimeout(beat, interval - idle)
      }
      timer.unref()
    }
    timer = setTimeout(beat, interval)
    timer.unref()
  }
  return sink
}

/**
 * Relays `options` (RequestOptions, plus `method`) to `res`; `startRequest(options, method, wrap,
 * text)` is the instance's request start (lib/request.js `start`). Relay options:
 * - `transform(msg) => msg | null`: map or drop each event (return null/undefined to drop).
 * - `heartbeat`: ms of silence before a `:` comment is sent (default 15000; false or 0: none).
 * - `errorEvent`: the terminal event on a final upstream error: default `event: error` with
 *   `{"code","message"}`; a string names the event; a function `(err) => msg | null`; false: none.
 * - `endEvent`: a message sent after a clean end (default none), e.g. `{ event: 'end', data: '' }`.
 * - `forwardLastEventId`: send the browser's `Last-Event-ID` header (`res.req`) upstream as
 *   `lastEventId` (default false). `request` may be passed for a `res` without `res.req`.
 * - `responseHeaders`: extra response headers (the event-stream ones win).
 * Throws synchronously what `sse.request()` throws (bad options) before any header is sent.
 * Returns a RelayHandle { abort(), request, done, error } where `done` resolves with how the
 * relay ended: 'end' (upstream ended), 'done' (doneData), 'abort' (abort() or the signal),
 * 'closed' (the downstream went away first), 'error' (a final upstream error, or a transform that
 * threw; `handle.error` holds it). `done` never rejects: the relay has already told the browser.
 * The handle is also awaitable (see `then` below).
 */
function relay(startRequest, res, options = {}) {
  if (res === null || typeof res !== 'object' || typeof res.write !== 'function' || typeof res.on !== 'function') {
    throw new TypeError('relay: res must be a Node http.ServerResponse (Express res, Fastify reply.raw)')
  }
  const {
    transform,
    heartbeat,
    errorEvent,
    endEvent,
    forwardLastEventId,
    responseHeaders,
    request: incoming,
    ...requestOptions
  } = options
  if (transform !== undefined && typeof transform !== 'function')
    throw new TypeError('relay: transform must be a function')
  const interval = heartbeatMs(heartbeat)
  if (forwardLastEventId) {
    const header = (incoming ?? res.req)?.headers?.['last-event-id']
    if (typeof header === 'string' && header !== '') requestOptions.lastEventId = header
  }

  // Encoded now, so that a bad endEvent throws here rather than at the end of the stream.
  const endText = endEvent ? encodeEvent(endEvent) : undefined
  const encode = createEncoder()
  let writeText = null
  let failure
  // With no transform the binding re-frames the events of each read into one string (TEXT records,
  // src/records.rs), written as it comes: no message object per event. Its framing is the
  // encoder's (ids only when they change), which the relay property test checks.
  const text = transform === undefined
  const delivered = startRequest(
    requestOptions,
    requestMethod(requestOptions),
    (callbacks) => ({
      ...callbacks,
      onText: (chunk) => writeText(chunk),
      onMessage: text
        ? undefined
        : (msg) => {
            let chunk
            try {
              const out = transform(msg)
              if (out === null || out === undefined) return
              chunk = encode(out)
            } catch (err) {
              // A transform that throws ends the relay like a final upstream error.
              failure = err
              request.abort()
              finish()
              return
            }
            writeText(chunk)
          },
    }),
    text,
  )
  const request = new SseRequest(delivered)
  let resolveDone
  const handle = {
    request,
    error: undefined,
    done: new Promise((resolve) => {
      resolveDone = resolve
    }),
    abort: () => request.abort(),
    // Awaitable: `await sse.relay(res, options)` waits for the relay's end. It resolves with
    // undefined (how it ended is `done`'s value), so a framework that sends what a handler returns
    // sends nothing: Fastify, given `(req, reply) => sse.relay(reply.raw, ...)`, would otherwise
    // try to serialise the handle into a response that is already streaming.
    // oxlint-disable-next-line unicorn/no-thenable -- awaitable on purpose (see above)
    then(onFulfilled, onRejected) {
      return handle.done.then(() => undefined).then(onFulfilled, onRejected)
    },
  }
  if (res.destroyed || res.writableEnded) {
    // The browser left before we started (or someone else answered).
    request.abort()
    resolveDone('closed')
    return handle
  }
  const sink = createSink(res, {
    interval,
    onClose() {
      request.abort()
      resolveDone('closed')
    },
  })
  writeText = textWriter(delivered, sink)
  if (!res.headersSent) {
    try {
      if (responseHeaders) for (const [name, value] of Object.entries(responseHeaders)) res.setHeader(name, value)
    } catch (err) {
      // A header name or value that node:http refuses: nothing has been sent yet.
      request.abort()
      throw err
    }
    for (const [name, value] of Object.entries(EVENT_STREAM_HEADERS)) res.setHeader(name, value)
    res.statusCode = 200
    // Headers now, not with the first event: the browser's fetch()/EventSource opens at once.
    res.flushHeaders()
  }

  let finished = false
  function finish(how) {
    if (finished || sink.closed) return
    finished = true
    if (failure !== undefined) {
      handle.error = failure
      let text
      try {
        const last = terminalEvent(errorEvent, failure)
        if (last !== null) text = encode(last)
      } catch {
        // An errorEvent function that throws or returns what cannot be encoded: end without it.
        text = undefined
      }
      sink.end(text)
      resolveDone('error')
      return
    }
    sink.end(how !== 'abort' ? endText : undefined)
    resolveDone(how)
  }
  request.done.then(
    (how) => finish(typeof how === 'string' ? how : 'end'),
    (err) => {
      if (failure === undefined) failure = err
      finish('error')
    },
  )
  return handle
}

/**
 * The one function event-stream text goes through: TEXT records of a whole read, or what the
 * transform's messages encode to. Back-pressure pauses the native reader of the request (its
 * delivery sink) while the socket's buffer is full and resumes it on 'drain'.
 */
function textWriter(delivered, sink) {
  let paused = false
  const resume = () => {
    paused = false
    delivered.native.resume(delivered.id)
  }
  return function writeText(text) {
    if (!sink.write(text) && !paused && !sink.closed) {
      paused = true
      delivered.native.pause(delivered.id)
      sink.drained().then(resume)
    }
  }
}

module.exports = { relay }
