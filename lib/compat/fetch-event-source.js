'use strict'
// native-sse/fetch-event-source: `fetchEventSource(input, init)` with the options and semantics
// of @microsoft/fetch-event-source 2.x (src/fetch.ts), over the native client, in plain Node
// (no window or document). Its retry loop is the user's: every attempt is one native request
// with reconnectCount 0, and what happens after it ends is decided here, as the package does:
//
// - onopen(response) runs before any message; it may be async, and while it is pending the
//   messages already received wait. Throwing (or rejecting) fails the attempt. Without onopen,
//   a response whose content-type does not start with text/event-stream fails it.
// - an attempt fails when onopen, onmessage or onclose throws, or the request fails (network,
//   timeout, an HTTP error status after onopen saw it): onerror(err) then returns the delay of the
//   next attempt (default: the server's last `retry`, else 1000 ms) or throws to stop, which
//   rejects the promise with what it threw.
// - a clean end of the response calls onclose() and resolves the promise (no reconnect, unless
//   onclose throws); aborting init.signal resolves it, with no further callback.
// - the next attempt sends Last-Event-ID: the last id the server sent.
//
// With a custom `fetch`, that function makes each attempt's request, called as the package calls
// it (input as given, init = the rest of init with the headers and an AbortSignal), onopen gets
// the Response it returned, and its body is read through the native parser
// (lib/compat/fetch-transport.js); everything else above holds as it is.
const { sharedInstance } = require('./shared-instance.js')
const { FetchAttempt, RecordParser, isCustomFetch } = require('./fetch-transport.js')

const EventStreamContentType = 'text/event-stream'
const DEFAULT_RETRY_MS = 1000
// Node's fetch (undici) gives up after 300 s without response headers or body bytes; the package
// this module replaces runs on it, so the same silence limit applies unless init.timeout says.
const DEFAULT_TIMEOUT_MS = 300_000

/** The package's check when no onopen is given. */
function defaultOnOpen(response) {
  const contentType = response.headers.get('content-type')
  if (!contentType?.startsWith(EventStreamContentType)) {
    throw new Error(`Expected content-type to be ${EventStreamContentType}, Actual: ${contentType}`)
  }
}

// What onopen receives: a real Response with the status and headers of the answer and the URL of
// the request (the native client does not report the URL after redirects). Its body is null for a
// stream being read (the native client reads it), and the first bytes of the body for an HTTP error
// status, so `await response.text()` in onopen shows the server's error message.
function makeResponse(url, status, headers, body) {
  const nullBody = status === 204 || status === 205 || status === 304
  let response
  try {
    // Bytes, not a string: a string body would add a content-type the server did not send.
    const bytes = nullBody || body == null ? null : Buffer.from(body)
    response = new Response(bytes, { status, headers })
  } catch {
    // A status Response refuses (outside 200-599): the same fields, without the methods.
    const h = new Headers(headers)
    return { ok: status >= 200 && status < 300, status, statusText: '', headers: h, url, redirected: false, body: null }
  }
  Object.defineProperty(response, 'url', { value: url, enumerable: true })
  return response
}

function toHeaders(headers) {
  if (headers == null) return {}
  return Object.fromEntries(new Headers(headers))
}

// A RequestInit body as the native request takes it. Strings and bytes go as they are; the other
// BodyInit types (URLSearchParams, Blob, FormData, ReadableStream) go through a Request, which
// gives their bytes and the content-type fetch would set. Never a plain object: the native request
// would send that as JSON, which fetch does not.
async function toBody(body, headers) {
  if (body == null) return undefined
  if (typeof body === 'string' || body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
  const request =
    body instanceof Request ? body : new Request('http://127.0.0.1/', { method: 'POST', body, duplex: 'half' })
  const type = request.headers.get('content-type')
  if (type !== null && headers['content-type'] === undefined) headers['content-type'] = type
  return new Uint8Array(await request.arrayBuffer())
}

function fetchEventSource(input, init = {}) {
  const {
    signal,
    headers: inputHeaders,
    onopen: inputOnOpen,
    onmessage,
    onclose,
    onerror,
    // Accepted and ignored: there is no document whose visibility could change.
    openWhenHidden: _openWhenHidden,
    fetch: inputFetch,
    client,
    timeout,
    ...rest
  } = init
  return new Promise((resolve, reject) => {
    let url
    let method = rest.method
    let body = rest.body
    if (typeof input === 'object' && input !== null && typeof input.url === 'string' && !(input instanceof URL)) {
      // A Request: its URL, method and body; its headers are replaced by init.headers, as
      // fetch(request, { headers }) does.
      url = input.url
      method ??= input.method
      if (body === undefined && input.body !== null) body = input
    } else {
      url = String(input)
    }
    method = method === undefined ? 'GET' : String(method).toUpperCase()
    const headers = toHeaders(inputHeaders)
    headers.accept ??= EventStreamContentType
    const onopen = inputOnOpen ?? defaultOnOpen
    const customFetch = isCustomFetch(inputFetch)
    const sse = customFetch ? null : sharedInstance(client)
    // The headers a custom fetch gets: init.headers copied as they are, as the package copies them.
    const fetchHeaders = customFetch ? { ...inputHeaders } : null
    if (customFetch && !fetchHeaders.accept) fetchHeaders.accept = EventStreamContentType

    // Sent as last-event-id on the next attempt; null: not sent.
    let lastId = (customFetch ? fetchHeaders : headers)['last-event-id'] ?? null
    delete headers['last-event-id']
    let retryInterval = DEFAULT_RETRY_MS
    let retryTimer = null
    let current = null
    let finished = false

    function dispose() {
      finished = true
      if (retryTimer !== null) clearTimeout(retryTimer)
      retryTimer = null
      current?.abort()
      current = null
      signal?.removeEventListener('abort', onAbort)
    }
    function onAbort() {
      dispose()
      resolve()
    }
    if (signal != null) {
      if (signal.aborted) return resolve()
      signal.addEventListener('abort', onAbort, { once: true })
    }

    function create(payload) {
      retryTimer = null
      if (finished) return
      // One attempt. Its steps run in order through `run`: while onopen's promise is pending,
      // the messages and the end that arrive after it wait in `queue`.
      let dead = false
      let opening = null
      const queue = []
      let req = null
      let sawId = false
      const run = (step) => {
        if (dead || finished) return
        if (opening !== null || queue.length > 0) queue.push(step)
        else step()
      }
      const drain = () => {
        opening = null
        while (queue.length > 0 && !dead && !finished && opening === null) queue.shift()()
      }
      const fail = (err) => {
        if (dead) return
        dead = true
        queue.length = 0
        req?.abort()
        if (current === req) current = null
        if (finished) return
        try {
          const interval = onerror?.(err) ?? retryInterval
          if (finished) return
          if (retryTimer !== null) clearTimeout(retryTimer)
          retryTimer = setTimeout(create, interval, payload)
        } catch (innerErr) {
          dispose()
          reject(innerErr)
        }
      }
      const open = (response) => {
        let result
        try {
          result = onopen(response)
        } catch (err) {
          return fail(err)
        }
        if (result != null && typeof result.then === 'function') {
          const gate = Promise.resolve(result).then(
            () => {
              if (!dead && opening === gate) drain()
            },
            (err) => fail(err),
          )
          opening = gate
        }
      }
      const deliver = (msg) => {
        // The package sends back the last id it saw, and none after an empty one. A native request
        // reports "" until its server sends an id: that is no id field, not an empty one.
        if (msg.id !== '') {
          sawId = true
          lastId = msg.id
        } else if (sawId) {
          lastId = null
        }
        if (msg.retry !== undefined) retryInterval = msg.retry
        const ev = { id: msg.id, event: msg.event === 'message' ? '' : msg.event, data: msg.data, retry: msg.retry }
        try {
          onmessage?.(ev)
        } catch (err) {
          fail(err)
        }
      }
      const end = () => {
        try {
          onclose?.()
        } catch (err) {
          return fail(err)
        }
        dead = true
        dispose()
        resolve()
      }
      const onMessage = (msg) => {
        // The hot path: no closure per message unless onopen is still pending.
        if (dead || finished) return
        if (opening !== null || queue.length > 0) queue.push(() => deliver(msg))
        else deliver(msg)
      }
      // One call of the user's fetch, with the package's init.
      const fetchAttempt = () => {
        const attemptHeaders = { ...fetchHeaders }
        if (lastId === null) delete attemptHeaders['last-event-id']
        else attemptHeaders['last-event-id'] = lastId
        return new FetchAttempt({
          fetch: inputFetch,
          input,
          init: { ...rest, headers: attemptHeaders },
          parser: new RecordParser(),
          onResponse: (response) => run(() => open(response)),
          onMessage,
        })
      }
      const nativeRequest = () =>
        sse.request({
          url,
          method,
          headers: lastId === null ? headers : { ...headers, 'last-event-id': lastId },
          body: payload,
          timeout: timeout ?? DEFAULT_TIMEOUT_MS,
          reconnectCount: 0,
          // The content-type is onopen's to judge.
          strictContentType: false,
          onOpen: (info) => run(() => open(makeResponse(url, info.status, info.headers))),
          onMessage,
        })
      try {
        req = customFetch ? fetchAttempt() : nativeRequest()
      } catch (err) {
        // A URL or option the native client refuses: what fetch() rejecting would lead to.
        return fail(err)
      }
      current = req
      req.done.then(
        () => {
          if (req === current) run(end)
        },
        (err) => {
          if (req !== current) return
          if (!customFetch && err.code === 'HTTP_STATUS' && inputOnOpen !== undefined) {
            // fetch() resolves with an error status, and the package hands it to onopen to judge.
            // If onopen lets it through, the error body is read as a stream: no events, then
            // the end.
            run(() => open(makeResponse(url, err.status, {}, err.body)))
            run(end)
          } else {
            run(() => fail(err))
          }
        },
      )
    }

    // A custom fetch gets the body as given, and is called at once, as the package calls it.
    if (customFetch) return create(undefined)
    toBody(body, headers).then(create, (err) => {
      dispose()
      reject(err)
    })
  })
}

module.exports = { fetchEventSource, EventStreamContentType }
