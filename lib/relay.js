// relay(sse, res, options): one upstream SSE request relayed to a Node http.ServerResponse (Express
// `res`, Fastify `reply.raw`, Koa `ctx.res`, plain node:http) as an event stream.
//
// The relay is two halves with one string between them:
// - the sink (`createSink`) owns the response: headers, writes of event-stream text, heartbeats,
//   back-pressure ('drain') and the downstream close. Its `write(text)` takes any run of complete
//   events as one string and returns false when the socket's buffer is full.
// - the source feeds it. Today it pulls SseMessages from `sse.stream()` and re-encodes each one
//   (createEncoder: ids only when they change). With no transform the relay needs no message
//   object at all; the native side can hand the re-framed text of a whole batch straight to
//   `sink.write` (pausing the request with `_pause()` when it returns false and resuming on
//   `sink.drained()`), which is what `textWriter` below is written for.
//
// Downstream close: ServerResponse 'close' fires when the response is done or its connection went
// away, whatever the framework (it is the `res` event, not the request's, which fires when the
// request body has been read). Before the relay ended the response, it means the browser left: the
// upstream is aborted in the same turn.
'use strict'

const { createEncoder, encodeComment } = require('./encode.js')
const { terminalEvent, heartbeatMs, EVENT_STREAM_HEADERS } = require('./adapters.js')

const HEARTBEAT = encodeComment()
// stream() keeps this many messages queued before it pauses the native reader (lib/runtime.js);
// the fallback source for non-POST methods uses the same marks.
const STREAM_HIGH = 1024
const STREAM_LOW = 256

/**
 * The response side. `onClose()` runs once if the downstream goes away before `end()`.
 * Returns { write(text): boolean, drained(): Promise<void>, end(text?), closed, ended }.
 */
function createSink(res, { interval, onClose }) {
  let timer = null
  let waiter = null
  const sink = {
    closed: false,
    ended: false,
    write(text) {
      if (sink.closed || sink.ended) return false
      if (timer !== null) timer.refresh()
      return res.write(text)
    },
    drained() {
      if (sink.closed || sink.ended || !res.writableNeedDrain) return Promise.resolve()
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
    const w = waiter
    waiter = null
    w?.()
  }
  const stop = () => {
    if (timer !== null) {
      clearInterval(timer)
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
    // Re-armed by every write, so a comment goes out only after `interval` ms of silence, and only
    // between events (writes are whole events). Not while the socket is backed up: a heartbeat
    // then would only add to the buffer of a connection that is evidently alive.
    timer = setInterval(() => {
      if (!res.writableNeedDrain) res.write(HEARTBEAT)
    }, interval)
    timer.unref()
  }
  return sink
}

/**
 * A stream of messages for any method: `sse.stream()` for POST (what stream() sends today), else a
 * queue over `sse.request()` with stream()'s back-pressure marks. Same shape as an SseStream:
 * async iterable, abort(), done, request.
 */
function openStream(sse, options) {
  const method = options.method
  if (method === undefined || method === 'POST') {
    const { method: _ignored, ...rest } = options
    return sse.stream(rest)
  }
  const queue = []
  let head = 0
  let waiter = null
  let paused = false
  let handle = null
  const wake = () => {
    const w = waiter
    waiter = null
    w?.()
  }
  handle = sse.request({
    ...options,
    onMessage(msg) {
      queue.push(msg)
      if (!paused && queue.length - head >= STREAM_HIGH && typeof handle?._pause === 'function') {
        paused = true
        handle._pause()
      }
      wake()
    },
  })
  let ended = false
  let failure = null
  handle.done.then(
    () => {
      ended = true
      wake()
    },
    (err) => {
      ended = true
      failure = err
      wake()
    },
  )
  const iterator = {
    async next() {
      for (;;) {
        if (head < queue.length) {
          const value = queue[head]
          queue[head++] = undefined
          if (head === queue.length) {
            queue.length = 0
            head = 0
          }
          if (paused && queue.length - head <= STREAM_LOW) {
            paused = false
            handle._resume()
          }
          return { value, done: false }
        }
        if (failure !== null) {
          const err = failure
          failure = null
          throw err
        }
        if (ended) return { value: undefined, done: true }
        await new Promise((resolve) => {
          waiter = resolve
        })
      }
    },
    async return() {
      handle.abort()
      return { value: undefined, done: true }
    },
    [Symbol.asyncIterator]() {
      return this
    },
  }
  return {
    [Symbol.asyncIterator]: () => iterator,
    abort: () => handle.abort(),
    done: handle.done,
    request: handle,
  }
}

/**
 * Relays `options` (RequestOptions, plus `method`) from `sse` to `res`. Relay options:
 * - `transform(msg) => msg | null`: map or drop each event (return null/undefined to drop).
 * - `heartbeat`: ms of silence before a `:` comment is sent (default 15000; false or 0: none).
 * - `errorEvent`: the terminal event on a final upstream error: default `event: error` with
 *   `{"code","message"}`; a string names the event; a function `(err) => msg | null`; false: none.
 * - `endEvent`: a message sent after a clean end (default none), e.g. `{ event: 'end', data: '' }`.
 * - `forwardLastEventId`: send the browser's `Last-Event-ID` header (`res.req`) upstream as
 *   `lastEventId` (default false). `request` may be passed for a `res` without `res.req`.
 * - `responseHeaders`: extra response headers (the event-stream ones win).
 * Throws synchronously what `sse.stream()`/`sse.request()` throw (bad options) before any header is
 * sent. Returns a RelayHandle { abort(), request, stream, done } where `done` resolves with how the
 * relay ended: 'end' (upstream ended), 'done' (doneData), 'abort' (abort() or the signal),
 * 'closed' (the downstream went away first), 'error' (a final upstream error, or a transform that
 * threw; `handle.error` holds it). `done` never rejects: the relay has already told the browser.
 */
function relay(sse, res, options = {}) {
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

  const stream = openStream(sse, requestOptions)
  let resolveDone
  const handle = {
    stream,
    request: stream.request,
    error: undefined,
    done: new Promise((resolve) => {
      resolveDone = resolve
    }),
    abort: () => stream.abort(),
  }

  if (res.destroyed || res.writableEnded) {
    // The browser left before we started (or someone else answered).
    stream.abort()
    resolveDone('closed')
    return handle
  }
  const sink = createSink(res, {
    interval,
    onClose() {
      stream.abort()
      resolveDone('closed')
    },
  })
  if (!res.headersSent) {
    if (responseHeaders) for (const [name, value] of Object.entries(responseHeaders)) res.setHeader(name, value)
    for (const [name, value] of Object.entries(EVENT_STREAM_HEADERS)) res.setHeader(name, value)
    res.statusCode = 200
    // Headers now, not with the first event: the browser's fetch()/EventSource opens at once.
    res.flushHeaders()
  }
  pumpMessages(stream, sink, { transform, encode: createEncoder() }).then(
    async (failure) => {
      if (sink.closed) return
      if (failure !== undefined) {
        handle.error = failure
        let last = null
        try {
          last = terminalEvent(errorEvent, failure)
          sink.end(last === null ? undefined : createEncoder()(last))
        } catch {
          sink.end()
        }
        resolveDone('error')
        return
      }
      const how = await stream.done.then(
        (v) => (typeof v === 'string' ? v : 'end'),
        () => 'end',
      )
      sink.end(how !== 'abort' && endEvent ? createEncoder()(endEvent) : undefined)
      resolveDone(how)
    },
    () => {},
  )
  return handle
}

/**
 * The message source: pulls from the stream only when the sink can take more. Resolves with
 * undefined at the end (clean, doneData, abort, or the downstream left) or with the error that
 * ended it (the final upstream error, or what `transform` threw, after aborting the upstream).
 */
async function pumpMessages(stream, sink, { transform, encode }) {
  const iterator = stream[Symbol.asyncIterator]()
  for (;;) {
    let step
    try {
      step = await iterator.next()
    } catch (err) {
      return err
    }
    if (step.done || sink.closed) return undefined
    let msg = step.value
    let text
    try {
      if (transform !== undefined) {
        msg = transform(msg)
        if (msg === null || msg === undefined) continue
      }
      text = encode(msg)
    } catch (err) {
      stream.abort()
      return err
    }
    if (!sink.write(text)) {
      await sink.drained()
      if (sink.closed) return undefined
    }
  }
}

/**
 * For a source that hands over event-stream text (a whole batch of one request, already re-framed)
 * instead of messages: the function to give it. Back-pressure pauses the native reader of `request`
 * while the socket's buffer is full and resumes it on 'drain'.
 */
function textWriter(request, sink) {
  let paused = false
  const resume = () => {
    paused = false
    request._resume()
  }
  return function writeText(text) {
    if (!sink.write(text) && !paused && !sink.closed) {
      paused = true
      request._pause()
      sink.drained().then(resume)
    }
  }
}

module.exports = { relay, createSink, openStream, textWriter }
