'use strict'
// What every relay writer shares (the Node response writer in node-writer.js, the web streams in
// web.js): the response headers, the heartbeat scheduler and the terminal event. One rule each, so
// that `relay(res)` and `toResponse()` behave alike.

const { encodeComment } = require('../encode.js')

const DEFAULT_HEARTBEAT_MS = 15_000
const HEARTBEAT = encodeComment()

/** The headers an event stream needs through browsers, proxies and nginx (`x-accel-buffering`). */
const EVENT_STREAM_HEADERS = Object.freeze({
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  'x-accel-buffering': 'no',
})

/** The `heartbeat` option in ms: default 15000; false, null or 0: none. */
function heartbeatMs(value) {
  if (value === undefined) return DEFAULT_HEARTBEAT_MS
  if (value === false || value === null || value === 0) return 0
  if (!Number.isFinite(value) || value < 0)
    throw new TypeError(`heartbeat must be a number of ms or false, got ${value}`)
  return value
}

/**
 * Calls `beat(HEARTBEAT)` once `interval` ms passed since the last write (`touch()`), between
 * events only (writers write whole events, and JS runs one thing at a time). The timer wakes at
 * most once per interval, whatever the event rate: a clock read per write is about a tenth of
 * re-arming a timer per write. `beat` skips the comment while the consumer is backed up: it would
 * only add to the buffer of a connection that is evidently alive.
 */
function createHeartbeat(interval, beat) {
  if (!(interval > 0)) return { touch() {}, stop() {} }
  let last = Date.now()
  let stopped = false
  let timer = null
  const arm = (ms) => {
    timer = setTimeout(tick, ms)
    timer.unref?.()
  }
  const tick = () => {
    if (stopped) return
    const now = Date.now()
    const idle = now - last
    if (idle >= interval) {
      last = now
      beat(HEARTBEAT)
      arm(interval)
    } else {
      arm(interval - idle)
    }
  }
  arm(interval)
  return {
    touch() {
      last = Date.now()
    },
    stop() {
      stopped = true
      if (timer !== null) clearTimeout(timer)
    },
  }
}

/**
 * The terminal event sent when the upstream fails for good or a transform throws, from the
 * `errorEvent` option: undefined -> `event: error` with `{ code, message }` as JSON (never headers,
 * bodies or the URL); a string -> the same payload under that event name; a function
 * `(err) => msg | null`; false or null -> nothing. Returns the message or null.
 */
function terminalEvent(errorEvent, err) {
  if (errorEvent === false || errorEvent === null) return null
  if (typeof errorEvent === 'function') return errorEvent(err) ?? null
  const event = typeof errorEvent === 'string' ? errorEvent : 'error'
  const code = typeof err?.code === 'string' ? err.code : 'ERROR'
  // err.message of an SseError names the cause and never a header value; other values (a
  // transform that threw) are reduced to their message too.
  const message = err instanceof Error ? err.message : String(err)
  return { event, data: JSON.stringify({ code, message }) }
}

/**
 * The terminal event as event-stream text (`encode` is the writer's encoder), or undefined when
 * there is none: an `errorEvent` function that throws or returns what cannot be encoded ends the
 * stream without one rather than leaving it open.
 */
function terminalText(errorEvent, err, encode) {
  try {
    const last = terminalEvent(errorEvent, err)
    return last === null ? undefined : encode(last)
  } catch {
    return undefined
  }
}

module.exports = { EVENT_STREAM_HEADERS, heartbeatMs, createHeartbeat, terminalEvent, terminalText }
