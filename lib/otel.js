'use strict'
// native-sse/otel: OpenTelemetry spans for native-sse's requests and relays, made from its
// diagnostics channels (lib/internal/diagnostics.js, README "Diagnostics channels"). Nothing here
// runs until `instrument()` subscribes; @opentelemetry/api is an optional peer dependency, loaded
// only by this entry point.
//
// A request's span follows OpenTelemetry's HTTP client conventions (kind CLIENT, named after the
// method; `http.request.method`, `server.address`, `server.port`, `url.full` and `url.path` with
// query values redacted, `http.response.status_code`, `network.protocol.version`, `error.type`)
// plus `sse.events`, `sse.bytes`, `sse.reconnects`, `sse.end` and one `sse.reconnect` span event
// per retried attempt. Its parent is the context active when the request started, or the relay's
// span for a relay's request. A relay's span (kind INTERNAL, `native-sse relay`) is a child of
// the context active when `relay()` was called: the incoming request's server span under
// OpenTelemetry's http instrumentation.

const dc = require('node:diagnostics_channel')
const api = require('@opentelemetry/api')
const { version } = require('../package.json')

const { SpanKind, SpanStatusCode, context, trace } = api

const DEFAULT_PORTS = { 'http:': 80, 'https:': 443 }

function serverAttributes(origin) {
  if (origin === undefined) return {}
  try {
    const url = new URL(origin)
    return { 'server.address': url.hostname, 'server.port': Number(url.port) || DEFAULT_PORTS[url.protocol] }
  } catch {
    return {}
  }
}

/**
 * Starts making spans for every native-sse request and relay started from now on; returns a
 * function that stops (spans already open still end). Options: `tracerProvider` (default the
 * global one) or `tracer`.
 */
function instrument(options = {}) {
  const tracer = options.tracer ?? (options.tracerProvider ?? trace).getTracer('native-sse', version)
  // Request id -> { span, reconnects }; relay start message -> its span's context.
  const requests = new Map()
  const relays = new WeakMap()

  const handlers = {
    'native-sse:relay:start'(msg) {
      const span = tracer.startSpan(
        'native-sse relay',
        {
          kind: SpanKind.INTERNAL,
          attributes: msg.resumable === undefined ? {} : { 'sse.resumable': msg.resumable },
        },
        context.active(),
      )
      relays.set(msg, { span, ctx: trace.setSpan(context.active(), span) })
    },
    'native-sse:relay:end'(msg) {
      const relay = relays.get(msg.relay)
      if (relay === undefined) return
      relays.delete(msg.relay)
      relay.span.setAttribute('sse.end', msg.how)
      if (msg.error !== undefined) {
        relay.span.setAttribute('error.type', msg.code ?? msg.error?.name ?? 'Error')
        relay.span.setStatus({ code: SpanStatusCode.ERROR, message: msg.error?.message })
      }
      relay.span.end()
    },
    'native-sse:request:start'(msg) {
      const parent = (msg.relay !== undefined && relays.get(msg.relay)?.ctx) || context.active()
      const path = msg.path ?? ''
      const query = path.indexOf('?')
      const attributes = {
        'http.request.method': msg.method,
        ...serverAttributes(msg.origin),
        'url.full': `${msg.origin}${path}`,
        'url.path': query === -1 ? path : path.slice(0, query),
      }
      if (msg.resumable !== undefined) attributes['sse.resumable'] = msg.resumable
      const span = tracer.startSpan(msg.method ?? 'HTTP', { kind: SpanKind.CLIENT, attributes }, parent)
      requests.set(msg.id, { span, reconnects: 0 })
    },
    'native-sse:request:open'(msg) {
      const entry = requests.get(msg.id)
      if (entry === undefined) return
      entry.span.setAttribute('http.response.status_code', msg.status)
      if (msg.httpVersion !== undefined) entry.span.setAttribute('network.protocol.version', msg.httpVersion)
    },
    'native-sse:request:reconnect'(msg) {
      const entry = requests.get(msg.id)
      if (entry === undefined) return
      entry.reconnects++
      const attributes = { 'sse.attempt': msg.attempt, 'sse.delay_ms': msg.delay, 'error.type': msg.code }
      if (msg.status !== undefined) attributes['http.response.status_code'] = msg.status
      entry.span.addEvent('sse.reconnect', attributes)
    },
    'native-sse:request:error'(msg) {
      const entry = requests.get(msg.id)
      if (entry === undefined) return
      const { error } = msg
      // The conventions name an HTTP error by its status code.
      const status = error?.status
      entry.span.setAttribute('error.type', status === undefined ? error.code : String(status))
      if (status !== undefined) entry.span.setAttribute('http.response.status_code', status)
      entry.span.recordException(error)
      entry.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message })
    },
    'native-sse:request:end'(msg) {
      const entry = requests.get(msg.id)
      if (entry === undefined) return
      requests.delete(msg.id)
      const { span } = entry
      span.setAttribute('sse.reconnects', entry.reconnects)
      span.setAttribute('sse.end', msg.how)
      if (msg.events !== undefined) span.setAttribute('sse.events', msg.events)
      if (msg.bytes !== undefined) span.setAttribute('sse.bytes', msg.bytes)
      span.end()
    },
  }
  for (const [name, fn] of Object.entries(handlers)) dc.subscribe(name, fn)
  return function uninstrument() {
    for (const [name, fn] of Object.entries(handlers)) dc.unsubscribe(name, fn)
  }
}

module.exports = { instrument }
