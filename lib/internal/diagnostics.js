'use strict'
// diagnostics_channel publication of requests, relays and resumable logs, on the JS thread. The
// names and payloads are public API (README "Diagnostics channels"). Nothing is built unless a
// channel has subscribers: a request checks once, at its start, whether anything listens, and keeps
// `state.diag` null otherwise, so the decoder's only cost per OPEN or ERROR record is one null
// check. A request started while nobody listened publishes nothing later, as undici's requests do.
// Events and bytes are counted natively (src/sink.rs) and read once, at the end.

const dc = require('node:diagnostics_channel')
const { performance } = require('node:perf_hooks')

const requestStart = dc.channel('native-sse:request:start')
const requestOpen = dc.channel('native-sse:request:open')
const requestReconnect = dc.channel('native-sse:request:reconnect')
const requestError = dc.channel('native-sse:request:error')
const requestEnd = dc.channel('native-sse:request:end')
const relayStart = dc.channel('native-sse:relay:start')
const relayEnd = dc.channel('native-sse:relay:end')
const logBegin = dc.channel('native-sse:log:begin')
const logEnd = dc.channel('native-sse:log:end')
const logResume = dc.channel('native-sse:log:resume')
// start/end around the call that starts the request, asyncStart/asyncEnd when `done` settles,
// error before them when it rejects: an APM tool wraps the request as one unit.
const requestTrace = dc.tracingChannel('native-sse:request')

// src/sink.rs version_code
const HTTP_VERSIONS = { 9: '0.9', 10: '1.0', 11: '1.1', 20: '2', 30: '3' }

const requestObserved = () =>
  requestStart.hasSubscribers ||
  requestOpen.hasSubscribers ||
  requestReconnect.hasSubscribers ||
  requestError.hasSubscribers ||
  requestEnd.hasSubscribers ||
  requestTrace.hasSubscribers ||
  logEnd.hasSubscribers ||
  logBegin.hasSubscribers

/**
 * A request has started (`state.id` is known): builds its `diag` record and publishes `start`
 * when anything listens. `relay` is the relay's start message when a relay started it.
 */
function started(state, relay) {
  if (!requestObserved()) return
  const target = state.native.target(state.id)
  const message = {
    id: state.id,
    method: target === null ? undefined : target[0],
    origin: target === null ? undefined : target[1],
    path: target === null ? undefined : target[2],
    attempt: 0,
    resumable: state.generation,
    relay,
  }
  state.diag = message
  state.diagStart = performance.now()
  if (requestStart.hasSubscribers) requestStart.publish(message)
  if (requestTrace.hasSubscribers) {
    requestTrace.start.publish(message)
    requestTrace.end.publish(message)
  }
}

function base(diag) {
  return { id: diag.id, method: diag.method, origin: diag.origin, path: diag.path }
}

/** The OPEN record: `info` is what onOpen receives. */
function opened(state, info) {
  if (!requestOpen.hasSubscribers) return
  const progress = state.native.progress(state.id)
  const message = base(state.diag)
  message.attempt = state.attempt
  message.status = info.status
  message.httpVersion = progress === null ? undefined : HTTP_VERSIONS[progress[0]]
  requestOpen.publish(message)
}

/** An ERROR record (a failed attempt that is retried): `fields` its JSON, `err` its SseError. */
function reconnecting(state, fields, err) {
  if (!requestReconnect.hasSubscribers) return
  const message = base(state.diag)
  message.attempt = fields.attempt
  message.delay = fields.delay
  message.code = fields.code
  message.status = fields.status ?? undefined
  message.error = err
  requestReconnect.publish(message)
}

/** A resumable request's log is open (LOG record). */
function logOpened(state) {
  if (state.reader === true || !logBegin.hasSubscribers) return
  logBegin.publish({ id: state.id, resumable: state.generation })
}

/**
 * The request ended, for the JS side: `how` is 'end', 'done', 'abort', 'detach' or 'error' (`err`
 * the final SseError). Called while the request is still in the native registry (before release
 * or abort), so that its counts can be read.
 */
function ended(state, how, err) {
  const diag = state.diag
  const progress = state.native.progress(state.id)
  const events = progress === null ? undefined : progress[1]
  const bytes = progress === null ? undefined : progress[2]
  const duration = performance.now() - state.diagStart
  if (err !== undefined && requestError.hasSubscribers) {
    const message = base(diag)
    message.attempt = state.attempt
    message.error = err
    requestError.publish(message)
  }
  if (requestEnd.hasSubscribers) {
    const message = base(diag)
    message.how = how
    message.attempt = state.attempt
    message.events = events
    message.bytes = bytes
    message.duration = duration
    message.code = err?.code
    requestEnd.publish(message)
  }
  if (state.generation !== undefined && state.reader !== true && logEnd.hasSubscribers) {
    logEnd.publish({ id: state.id, resumable: state.generation, how, events, code: err?.code })
  }
  if (requestTrace.hasSubscribers) {
    if (err !== undefined) {
      diag.error = err
      requestTrace.error.publish(diag)
    }
    diag.result = how
    requestTrace.asyncStart.publish(diag)
    requestTrace.asyncEnd.publish(diag)
  }
}

/** relay() is about to start its request: the message request:start refers to as `relay`. */
function relayStarting(resumable, incoming) {
  if (!relayStart.hasSubscribers && !relayEnd.hasSubscribers && !requestObserved()) return undefined
  const message = { id: undefined, resumable, request: incoming }
  if (relayStart.hasSubscribers) relayStart.publish(message)
  return message
}

/** The relay ended: `how` is what its handle's `done` resolves with (`id` its request's). */
function relayEnded(relay, id, how, err, startTime) {
  if (relay === undefined || !relayEnd.hasSubscribers) return
  relayEnd.publish({
    id,
    resumable: relay.resumable,
    how,
    code: err?.code,
    error: err,
    duration: performance.now() - startTime,
    relay,
  })
}

/** resume() started a reader of a generation's log. */
function resumeStarted(id, generation, lastEventId) {
  if (!logResume.hasSubscribers) return
  logResume.publish({ id, resumable: generation, lastEventId })
}

module.exports = {
  started,
  opened,
  reconnecting,
  logOpened,
  ended,
  relayStarting,
  relayEnded,
  resumeStarted,
}
