'use strict'
// native-sse/eventsource: the WHATWG EventSource interface (HTML "Server-sent events", section
// 9.2) over the native client, as a drop-in for the `eventsource` npm package (v3/v4) and for
// Node's own EventSource. The native request does the HTTP, the parsing and the reconnects after a
// dropped connection (with Last-Event-ID and the server's `retry`); this file owns what the spec
// lets a user see: readyState, the events and their order, and the rules for failing for good.
//
// What the spec asks and where it happens:
// - "fail the connection" (CLOSED, one error event, no reconnect) on a status other than 200, on a
//   content-type other than text/event-stream, and so on 204: checked in onOpen, because 204 must
//   be told apart from a wrong content-type (the native strict check would see only the latter).
// - "reestablish the connection" (CONNECTING, an error event, wait the reconnection time, connect
//   with Last-Event-ID) after a network error: the native request retries these itself, forever
//   (reconnectCount 2**32-1, reconnectAfterEvents 'always'); we only mirror the state. A clean end
//   of the response body also reestablishes, but the native request treats that as the end, so
//   this file starts the next request itself, with the last id and reconnection time it has seen.
//
// With a custom init.fetch (as the `eventsource` package takes it), that function makes each
// request instead, called as the package calls it, and this file reads the Response's body through
// the native parser and does the reconnects itself (lib/compat/fetch-transport.js).
const { sharedInstance } = require('./shared-instance.js')
const { FetchAttempt, RecordParser, isCustomFetch, hasReadableBody, describeError } = require('./fetch-transport.js')

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2
// The spec leaves the initial reconnection time to the user agent ("a few seconds"); 3 s is what
// the `eventsource` package and Chromium use.
const DEFAULT_RECONNECT_MS = 3000
// As good as forever: the spec never gives up on a dropped connection.
const FOREVER = 2 ** 32 - 1
// Node's fetch (undici) gives up after 300 s without response headers or body bytes; the packages
// this module replaces run on it, so the same silence limit applies here unless init.timeout says.
const DEFAULT_TIMEOUT_MS = 300_000
// Errors after which the spec fails the connection instead of reestablishing it; the last two are
// mistakes in the request itself, which a reconnect would only repeat.
const FAIL_CODES = new Set(['HTTP_STATUS', 'BAD_CONTENT_TYPE', 'INVALID_URL', 'INVALID_OPTIONS'])

/** The `error` event: a plain Event with the `eventsource` package's `code` and `message`. */
class ErrorEvent extends Event {
  constructor(type, init = {}) {
    super(type, init)
    /** The HTTP status when the server's answer was the reason (as the `eventsource` package). */
    this.code = init.code
    /** What went wrong, for people. */
    this.message = init.message
    /** The native SseError behind the event, when there was one (its `code` is a string). */
    this.error = init.error
  }

  // Node's inspect of an Event shows none of these.
  [Symbol.for('nodejs.util.inspect.custom')](depth, options, inspect) {
    const { type, code, message, error } = this
    return `ErrorEvent ${inspect({ type, code, message, error: error?.code }, options)}`
  }
}

function toHeaders(headers) {
  if (headers == null) return {}
  // new Headers() accepts a record, an array of pairs or a Headers, validates names and values,
  // and gives lower-case names, which keeps "accept" from being set twice.
  return Object.fromEntries(new Headers(headers))
}

/** True when the content-type's essence (before any parameter) is text/event-stream. */
function isEventStream(contentType) {
  if (typeof contentType !== 'string') return false
  const semi = contentType.indexOf(';')
  const essence = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
  return essence === 'text/event-stream'
}

class EventSource extends EventTarget {
  #url
  #withCredentials
  #readyState = CONNECTING
  #lastEventId = ''
  #reconnectMs = DEFAULT_RECONNECT_MS
  #sse
  #options
  #request = null
  #timer = null
  // The custom-fetch path: the user's fetch, what it is called with besides the package's init,
  // and the parser that keeps the last event ID and retry across its connections.
  #fetch = null
  #fetchExtras = null
  #parser = null
  // The onopen/onmessage/onerror attributes: one listener each, added when the attribute is first
  // set to a function and removed when it is set to null, so its place among the other listeners
  // is the spec's (the position of the first assignment).
  #handlers = { open: null, message: null, error: null }
  #handlerListeners = { open: null, message: null, error: null }

  constructor(url, init) {
    super()
    try {
      this.#url = new URL(url)
    } catch {
      throw new DOMException(`An invalid or illegal URL was given: ${String(url)}`, 'SyntaxError')
    }
    init ??= {}
    if (init.fetch != null && typeof init.fetch !== 'function') {
      throw new TypeError(`init.fetch must be a function, got ${typeof init.fetch}`)
    }
    this.#withCredentials = Boolean(init.withCredentials)
    if (isCustomFetch(init.fetch)) {
      this.#fetch = init.fetch
      this.#parser = new RecordParser()
      this.#fetchExtras = fetchExtras(init)
      this.#connect(true)
      return
    }
    this.#sse = sharedInstance(init.client)
    const headers = toHeaders(init.headers)
    headers.accept ??= 'text/event-stream'
    this.#options = {
      url: this.#url.href,
      method: init.method === undefined ? 'GET' : String(init.method).toUpperCase(),
      headers,
      body: init.body ?? undefined,
      timeout: init.timeout ?? DEFAULT_TIMEOUT_MS,
      reconnectCount: FOREVER,
      reconnectAfterEvents: 'always',
      // Checked here against the spec's rules instead (see the top of the file).
      strictContentType: false,
    }
    this.#connect(true)
  }

  get readyState() {
    return this.#readyState
  }
  get url() {
    return this.#url.href
  }
  get withCredentials() {
    return this.#withCredentials
  }
  /** Not in the spec: the last event ID string, sent as Last-Event-ID on a reconnect. */
  get lastEventId() {
    return this.#lastEventId
  }

  get onopen() {
    return this.#handlers.open
  }
  set onopen(fn) {
    this.#setHandler('open', fn)
  }
  get onmessage() {
    return this.#handlers.message
  }
  set onmessage(fn) {
    this.#setHandler('message', fn)
  }
  get onerror() {
    return this.#handlers.error
  }
  set onerror(fn) {
    this.#setHandler('error', fn)
  }

  close() {
    if (this.#timer !== null) {
      clearTimeout(this.#timer)
      this.#timer = null
    }
    this.#readyState = CLOSED
    const req = this.#request
    this.#request = null
    // Inside a native callback too: no callback of this request runs after abort() returns.
    req?.abort()
  }

  #setHandler(type, fn) {
    if (typeof fn !== 'function') fn = null
    this.#handlers[type] = fn
    const installed = this.#handlerListeners[type]
    if (fn === null && installed !== null) {
      this.removeEventListener(type, installed)
      this.#handlerListeners[type] = null
    } else if (fn !== null && installed === null) {
      const listener = (event) => this.#handlers[type]?.call(this, event)
      this.#handlerListeners[type] = listener
      this.addEventListener(type, listener)
    }
  }

  #connect(first) {
    this.#timer = null
    if (this.#readyState === CLOSED) return
    this.#readyState = CONNECTING
    if (this.#fetch !== null) return this.#connectFetch()
    let req = null
    let sawId = false
    const resumeId = this.#lastEventId
    const options = {
      ...this.#options,
      retryDelay: this.#reconnectMs,
      lastEventId: this.#lastEventId === '' ? undefined : this.#lastEventId,
      onOpen: (info) => this.#opened(req, info),
      onMessage: (msg) => {
        // A new native request reports "" until the server sends an id, even when it was started
        // with lastEventId; the spec's last event ID string carries over. (An explicit empty id
        // as the first id of a resumed response is the one case this reads as "unchanged".)
        if (msg.id !== '') sawId = true
        else if (!sawId) msg.id = resumeId
        this.#message(msg)
      },
      onError: (err) => this.#errored(req, err),
    }
    try {
      req = this.#sse.request(options)
    } catch (err) {
      // A bad method or body is the caller's mistake: say so at once, as a constructor should.
      if (first && err.code === 'INVALID_OPTIONS') throw new TypeError(err.message)
      // An unusable URL (say ftp:) fails the connection, after the caller could add listeners.
      setImmediate(() => this.#fail(err.message, undefined, err))
      return
    }
    this.#request = req
    req.done.then(
      () => this.#ended(req),
      (err) => {
        // Normally handled by onError already; this covers a failure that never reached it.
        if (req === this.#request) this.#errored(req, err)
      },
    )
  }

  // One connection over the user's fetch, called with the URL and init the `eventsource` package
  // passes (its src/EventSource.ts #getRequestOptions): credentials only where there is a window.
  #connectFetch() {
    const { headers: extraHeaders, ...extras } = this.#fetchExtras
    const headers = { Accept: 'text/event-stream', ...extraHeaders }
    if (this.#lastEventId !== '') headers['Last-Event-ID'] = this.#lastEventId
    const init = { mode: 'cors', redirect: 'follow', headers, cache: 'no-store', ...extras }
    if ('window' in globalThis) init.credentials = this.#withCredentials ? 'include' : 'same-origin'
    this.#parser.reset()
    let origin = this.#url.origin
    const attempt = new FetchAttempt({
      fetch: this.#fetch,
      input: this.#url,
      init,
      parser: this.#parser,
      onResponse: (response) => {
        const { status, headers, redirected } = response
        // Events of a redirected stream come from where it was redirected to.
        if (redirected) origin = new URL(response.url).origin
        this.#opened(attempt, { status, headers: { 'content-type': headers.get('content-type') ?? undefined } })
        if (this.#request === attempt && !hasReadableBody(response)) {
          // A faulty fetch, which a reconnect would not mend.
          this.#failRequest(attempt, 'Invalid response body, expected a web ReadableStream', status)
        }
      },
      onMessage: (msg) => this.#message(msg, origin),
    })
    this.#request = attempt
    attempt.done.then(
      () => this.#ended(attempt),
      (err) => {
        if (attempt !== this.#request) return
        this.#request = null
        this.#reestablish(describeError(err), err)
      },
    )
  }

  #opened(req, info) {
    const { status } = info
    if (status === 204) return this.#failRequest(req, 'Server sent HTTP 204, not reconnecting', 204)
    if (status !== 200) return this.#failRequest(req, `Non-200 status code (${status})`, status)
    const contentType = info.headers['content-type']
    if (!isEventStream(contentType)) {
      return this.#failRequest(
        req,
        `Invalid content type, expected "text/event-stream", got ${contentType === undefined ? 'none' : JSON.stringify(contentType)}`,
        status,
      )
    }
    this.#readyState = OPEN
    this.dispatchEvent(new Event('open'))
  }

  #message(msg, origin = this.#url.origin) {
    this.#lastEventId = msg.id
    if (msg.retry !== undefined) this.#reconnectMs = msg.retry
    this.dispatchEvent(new MessageEvent(msg.event, { data: msg.data, lastEventId: msg.id, origin }))
  }

  #errored(req, err) {
    if (req !== this.#request) return
    if (FAIL_CODES.has(err.code)) {
      // A 429 or 503 would be retried by the native request; the spec fails on any non-200.
      return this.#failRequest(req, err.message, err.status, err)
    }
    if (err.willRetry) {
      // The native request waits the reconnection time and reconnects with Last-Event-ID.
      this.#readyState = CONNECTING
      this.dispatchEvent(new ErrorEvent('error', { message: err.message, error: err }))
      return
    }
    // A final error of a kind the spec reestablishes after (TLS, an oversized event...).
    this.#request = null
    this.#reestablish(err.message, err)
  }

  // The response body ended cleanly: the spec reconnects (a 204 is how a server says "stop").
  #ended(req) {
    if (req !== this.#request) return
    this.#request = null
    this.#reestablish('the server closed the connection')
  }

  #reestablish(message, error) {
    if (this.#readyState === CLOSED) return
    this.#readyState = CONNECTING
    this.dispatchEvent(new ErrorEvent('error', { message, error }))
    // close() from an error listener wins.
    if (this.#readyState !== CONNECTING || this.#timer !== null || this.#request !== null) return
    this.#timer = setTimeout(() => this.#connect(false), this.#reconnectMs)
  }

  #failRequest(req, message, code, error) {
    this.#request = null
    req.abort()
    this.#fail(message, code, error)
  }

  // The spec's "fail the connection".
  #fail(message, code, error) {
    if (this.#readyState === CLOSED) return
    this.#readyState = CLOSED
    this.dispatchEvent(new ErrorEvent('error', { message, code, error }))
  }
}

/** What a custom fetch gets besides the package's init: the extensions init.method/headers/body. */
function fetchExtras(init) {
  const extras = { headers: {} }
  for (const [name, value] of Object.entries(toHeaders(init.headers))) {
    // One Accept, spelled as the package spells it.
    extras.headers[name === 'accept' ? 'Accept' : name] = value
  }
  if (init.method !== undefined) extras.method = String(init.method).toUpperCase()
  const { body } = init
  if (body != null) {
    // As on the native transport: an object or array is sent as JSON.
    const json = typeof body === 'object' && !ArrayBuffer.isView(body) && !(body instanceof ArrayBuffer)
    extras.body = json ? JSON.stringify(body) : body
  }
  return extras
}

for (const [name, value] of [
  ['CONNECTING', CONNECTING],
  ['OPEN', OPEN],
  ['CLOSED', CLOSED],
]) {
  const descriptor = { value, enumerable: true, writable: false, configurable: false }
  Object.defineProperty(EventSource, name, descriptor)
  Object.defineProperty(EventSource.prototype, name, descriptor)
}
Object.defineProperty(EventSource.prototype, Symbol.toStringTag, { value: 'EventSource', configurable: true })

module.exports = { EventSource, ErrorEvent }
