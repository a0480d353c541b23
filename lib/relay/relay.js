// relay() and resume(): an event stream written to a Node http.ServerResponse (Express `res`,
// Fastify `reply.raw`, Koa `ctx.res`, plain node:http, the HTTP/2 compatibility response).
//
// Two halves with one string between them: the response writer (node-writer.js) owns the response,
// and a request feeds it event-stream text through `textWriter`. Without a transform the binding
// hands over the events of each network read already re-encoded as one string (TEXT records,
// src/records.rs), so no message object is built per event; with a transform each message is
// encoded here (ids only when they change). When the socket's buffer is full the request is paused
// (its native reader stops reading) until 'drain'. The request is started with callbacks rather
// than as an async iterator: a promise per event would cost JS-thread time, and back-pressure is the
// same pause either way.
//
// Resumable relays (a store-backed log per generation, docs/resuming.md): `relay()` with
// `resumable: { id }` appends the upstream's events to the generation's log and writes them with
// the log's ids; `resume()` replays a log after a Last-Event-ID and follows it live. Both send their
// headers only once the log is open, so that a store that refuses is reported before any header,
// and both carry their terminal event in the log (written natively, the same for every reader).
// The browser leaving a resumable relay does not stop the generation.
'use strict'

const { performance } = require('node:perf_hooks')
const { createEncoder, encodeEvent } = require('../encode.js')
const { invalidOptions } = require('../errors.js')
const { relayStarting, relayEnded } = require('../internal/diagnostics.js')
const { requestMethod, resumableId } = require('../internal/options.js')
const { SseRequest } = require('../request.js')
const { EVENT_STREAM_HEADERS, heartbeatMs, terminalText } = require('./event-stream.js')
const { createResponseWriter } = require('./node-writer.js')

function checkResponse(res, who) {
  if (res === null || typeof res !== 'object' || typeof res.write !== 'function' || typeof res.on !== 'function') {
    throw new TypeError(`${who}: res must be a Node http.ServerResponse (Express res, Fastify reply.raw)`)
  }
}

/**
 * Relays `options` (RequestOptions, plus `method`) to `res`; `startRequest(options, method, wrap,
 * text, generation, diag)` is the instance's request start (lib/request.js `start`). Relay options:
 * - `transform(msg) => msg | null`: map or drop each event (return null/undefined to drop).
 * - `heartbeat`: ms without a write before a `:` comment is sent (default 15000; false or 0: none).
 * - `errorEvent`: the terminal event on a final upstream error: default `event: error` with
 *   `{"code","message"}`; a string names the event; a function `(err) => msg | null`; false: none.
 * - `endEvent`: a message sent after a clean end (default none), e.g. `{ event: 'end', data: '' }`.
 * - `forwardLastEventId`: send the browser's `Last-Event-ID` header (`res.req`) upstream as
 *   `lastEventId` (default false). `request` may be passed for a `res` without `res.req`.
 * - `responseHeaders`: extra response headers (the event-stream ones win).
 * - `resumable: { id }`: log the generation `id` in the client's store (see docs/resuming.md);
 *   its terminal events are the log's, so `transform`, `errorEvent` and `endEvent` do not apply.
 * - `coalesce`: ms (default 0: every delivery is written at once). The events that arrive within
 *   the window after a write go out together in one write at its end (node-writer.js).
 * Throws synchronously what `sse.request()` throws (bad options) before any header is sent.
 * Returns a RelayHandle { abort(), request, done, error } where `done` resolves with how the
 * relay ended: 'end' (upstream ended), 'done' (doneData), 'abort' (abort() or the signal),
 * 'closed' (the downstream went away first), 'error' (a final upstream error, or a transform that
 * threw; `handle.error` holds it). `done` never rejects: the relay has already told the browser.
 * Awaiting the handle waits for `done`; it rejects only when the relay could not start and sent
 * nothing (a resumable relay whose store refused): the caller can still answer, e.g. with 503.
 */
function relay(startRequest, res, options = {}) {
  checkResponse(res, 'relay')
  const {
    transform,
    heartbeat,
    errorEvent,
    endEvent,
    forwardLastEventId,
    responseHeaders,
    coalesce,
    request: incoming,
    // Read by resumableId() below; not a request option.
    resumable: _resumable,
    ...requestOptions
  } = options
  if (transform !== undefined && typeof transform !== 'function')
    throw new TypeError('relay: transform must be a function')
  const generation = resumableId(options)
  if (generation !== undefined && transform !== undefined) {
    throw invalidOptions('resumable relays write the log as it is: transform cannot be combined with resumable')
  }
  const interval = heartbeatMs(heartbeat)
  if (coalesce !== undefined && !(typeof coalesce === 'number' && coalesce >= 0 && coalesce <= 1000)) {
    throw new TypeError(`relay: coalesce must be a number of ms from 0 to 1000, got ${coalesce}`)
  }
  if (forwardLastEventId) {
    const header = (incoming ?? res.req)?.headers?.['last-event-id']
    if (typeof header === 'string' && header !== '') requestOptions.lastEventId = header
  }
  // Encoded now, so that a bad endEvent throws here rather than at the end of the stream.
  const endText = endEvent && generation === undefined ? encodeEvent(endEvent) : undefined
  const method = requestMethod(requestOptions)
  // diagnostics_channel `native-sse:relay:start`, once the options are known to be good.
  const diag = relayStarting(generation, incoming ?? res.req)
  return serve(res, {
    diag,
    interval,
    coalesce: coalesce ?? 0,
    errorEvent,
    endText,
    responseHeaders,
    transform,
    logged: generation !== undefined,
    follows: false,
    start: (wrap, text) => startRequest(requestOptions, method, wrap, text, generation, diag),
  })
}

/**
 * Replays the log of generation `id` to `res` after `lastEventId` (default: the request's
 * `Last-Event-ID` header; none: from the start), then follows it live until its terminal event.
 * `startFollow(options, wrap)` starts the native reader (lib/request.js `follow`). An unknown or
 * expired id answers 404. Options: `heartbeat`, `responseHeaders`, `request` as for relay().
 */
function resume(startFollow, res, options) {
  checkResponse(res, 'resume')
  if (options === null || typeof options !== 'object') throw invalidOptions('resume: options { id } are required')
  const { id, heartbeat, responseHeaders, request: incoming } = options
  if (typeof id !== 'string') throw invalidOptions(`resume: id must be a string, got ${typeof id}`)
  let { lastEventId } = options
  if (lastEventId === undefined || lastEventId === null || lastEventId === '') {
    lastEventId = undefined
    const header = (incoming ?? res.req)?.headers?.['last-event-id']
    if (typeof header === 'string' && header !== '') lastEventId = header
  } else if (typeof lastEventId !== 'string') {
    throw invalidOptions(`resume: lastEventId must be a string, got ${typeof lastEventId}`)
  }
  return serve(res, {
    diag: undefined,
    interval: heartbeatMs(heartbeat),
    errorEvent: undefined,
    endText: undefined,
    responseHeaders,
    transform: undefined,
    logged: true,
    follows: true,
    start: (wrap, text) => startFollow({ generation: id, lastEventId, text }, wrap),
  })
}

function serve(
  res,
  { diag, interval, coalesce = 0, errorEvent, endText, responseHeaders, transform, logged, follows, start },
) {
  const encode = createEncoder()
  let writeText = null
  let failure
  // Set when the relay could not start and sent nothing: awaiting the handle rejects with it.
  let refused
  // TEXT records are framed as the encoder frames (ids only when they change): the relay property
  // test checks it.
  const text = transform === undefined
  const startTime = diag === undefined ? 0 : performance.now()
  let state
  try {
    state = startState()
  } catch (err) {
    relayEnded(diag, undefined, 'error', err, startTime)
    throw err
  }
  function startState() {
    return start(
      (callbacks) => ({
        ...callbacks,
        onLog: () => openResponse(),
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
  }
  const request = new SseRequest(state)
  if (diag !== undefined) diag.id = state.id
  let resolveHandle
  let resolved = false
  function resolveDone(how) {
    if (resolved) return
    resolved = true
    if (diag !== undefined) relayEnded(diag, state.id, how, handle.error, startTime)
    resolveHandle(how)
  }
  const handle = {
    request,
    error: undefined,
    done: new Promise((resolve) => {
      resolveHandle = resolve
    }),
    abort: () => request.abort(),
    // Awaitable: `await sse.relay(res, options)` waits for the relay's end. It resolves with
    // undefined (how it ended is `done`'s value), so a framework that sends what a handler returns
    // sends nothing: Fastify, given `(req, reply) => sse.relay(reply.raw, ...)`, would otherwise
    // try to serialise the handle into a response that is already streaming.
    // oxlint-disable-next-line unicorn/no-thenable -- awaitable on purpose (see above)
    then(onFulfilled, onRejected) {
      return handle.done
        .then(() => {
          if (refused !== undefined) throw refused
        })
        .then(onFulfilled, onRejected)
    },
  }
  // The browser leaving ends a plain relay's upstream request; a resumable generation goes on
  // (the browser may resume it, here or on another instance).
  const leave = () => (logged && !follows ? state.detach() : request.abort())
  if (res.destroyed || res.writableEnded) {
    // The browser left before we started (or someone else answered).
    leave()
    resolveDone('closed')
    return handle
  }
  const writer = createResponseWriter(res, {
    interval,
    coalesce,
    onClose() {
      leave()
      resolveDone('closed')
    },
  })
  writeText = textWriter(state, writer)

  let opened = false
  function openResponse() {
    if (opened) return
    opened = true
    if (res.headersSent) {
      writer.open()
      return
    }
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
    writer.open()
  }
  // A plain relay answers at once; a logged one once its log is open (the LOG record).
  if (!logged) openResponse()

  // The relay's end, once: the terminal event after a failure, `endEvent` after a clean end.
  let settled = false
  function settle(how) {
    if (settled || writer.closed) return
    settled = true
    if (failure !== undefined) {
      handle.error = failure
      if (!opened) {
        // Nothing was sent: an unknown generation is a 404; a store that refused is the caller's
        // to answer (awaiting the handle rejects).
        if (follows && (failure.code === 'NOT_FOUND' || failure.code === 'FINISHED')) {
          // 204 for a generation that ended with nothing after the browser's id: EventSource stops
          // reconnecting on any status but 200, and a fetch reader can tell "complete" from "gone".
          res.statusCode = failure.code === 'NOT_FOUND' ? 404 : 204
          writer.end()
          resolveDone(failure.code === 'NOT_FOUND' ? 'not-found' : 'end')
          return
        }
        refused = failure
        writer.release()
        resolveDone('error')
        return
      }
      writer.end(state.inBandTerminal ? undefined : terminalText(errorEvent, failure, encode))
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

module.exports = { relay, resume }
