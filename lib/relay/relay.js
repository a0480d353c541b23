// relay(): one upstream SSE request relayed to a Node http.ServerResponse as an event stream.
//
// Two halves with one string between them: the response writer (node-writer.js) owns the response,
// and the request feeds it event-stream text through `textWriter`. Without a transform the binding
// hands over the events of each network read already re-encoded as one string (TEXT records,
// src/records.rs), so no message object is built per event; with a transform each message is
// encoded here (ids only when they change). When the socket's buffer is full the request is paused
// (its native reader stops reading the upstream socket) until 'drain'. The request is started with
// callbacks rather than as an async iterator: a promise per event would cost JS-thread time, and
// back-pressure is the same pause either way.
'use strict'

const { createEncoder, encodeEvent } = require('../encode.js')
const { requestMethod } = require('../internal/options.js')
const { SseRequest } = require('../request.js')
const { EVENT_STREAM_HEADERS, heartbeatMs, terminalText } = require('./event-stream.js')
const { createResponseWriter } = require('./node-writer.js')

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
 * - `coalesce`: ms (default 0: every delivery is written at once). The events that arrive within
 *   the window after a write go out together in one write at its end (node-writer.js).
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
    coalesce,
    request: incoming,
    ...requestOptions
  } = options
  if (transform !== undefined && typeof transform !== 'function')
    throw new TypeError('relay: transform must be a function')
  const interval = heartbeatMs(heartbeat)
  if (coalesce !== undefined && !(typeof coalesce === 'number' && coalesce >= 0 && coalesce <= 1000)) {
    throw new TypeError(`relay: coalesce must be a number of ms from 0 to 1000, got ${coalesce}`)
  }
  if (forwardLastEventId) {
    const header = (incoming ?? res.req)?.headers?.['last-event-id']
    if (typeof header === 'string' && header !== '') requestOptions.lastEventId = header
  }

  // Encoded now, so that a bad endEvent throws here rather than at the end of the stream.
  const endText = endEvent ? encodeEvent(endEvent) : undefined
  const encode = createEncoder()
  let writeText = null
  let failure
  // TEXT records are framed as the encoder frames (ids only when they change): the relay property
  // test checks it.
  const text = transform === undefined
  const state = startRequest(
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
              settle()
              return
            }
            writeText(chunk)
          },
    }),
    text,
  )
  const request = new SseRequest(state)
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
  const writer = createResponseWriter(res, {
    interval,
    coalesce,
    onClose() {
      request.abort()
      resolveDone('closed')
    },
  })
  writeText = textWriter(state, writer)
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

  // The relay's end, once: the terminal event after a failure, `endEvent` after a clean end.
  let settled = false
  function settle(how) {
    if (settled || writer.closed) return
    settled = true
    if (failure !== undefined) {
      handle.error = failure
      writer.end(terminalText(errorEvent, failure, encode))
      resolveDone('error')
      return
    }
    writer.end(how !== 'abort' ? endText : undefined)
    resolveDone(how)
  }
  request.done.then(
    (how) => settle(typeof how === 'string' ? how : 'end'),
    (err) => {
      if (failure === undefined) failure = err
      settle('error')
    },
  )
  return handle
}

/**
 * The one function event-stream text goes through: TEXT records of a whole read, or what the
 * transform's messages encode to. While the socket's buffer is full the request is paused (its
 * native reader stops reading the upstream socket); 'drain' resumes it.
 */
function textWriter(state, writer) {
  const resume = () => state.resume()
  return function writeText(text) {
    if (!writer.write(text) && !state.paused && !writer.closed) {
      state.pause()
      writer.drained().then(resume)
    }
  }
}

module.exports = { relay }
