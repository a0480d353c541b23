// Type test of the drop-in modules for a Node project (lib ES2022 only, no DOM), checked by
// `tsc -p __test__/tsconfig.compat.json`: an EventSource is assignable where Node's global
// (undici's) EventSource type is expected, and fetchEventSource takes what the Microsoft package's
// users write. The DOM side is in compat-types.dom.ts.
import { EventSource, ErrorEvent, type EventSourceInit, type FetchLike } from 'native-sse/eventsource'
import DefaultEventSource from 'native-sse/eventsource'
import { fetchEventSource, EventStreamContentType, type EventSourceMessage } from 'native-sse/fetch-event-source'
import { SSEClient } from 'native-sse'
import type { EventSource as UndiciEventSource } from 'undici-types'

const init: EventSourceInit = {
  withCredentials: false,
  method: 'POST',
  headers: { authorization: 'Bearer t' },
  body: JSON.stringify({ prompt: 'hi' }),
  timeout: 0,
  client: new SSEClient(),
}
const es = new EventSource('http://127.0.0.1:1/sse', init)
new EventSource(new URL('http://127.0.0.1:1/sse'), { headers: [['x-a', '1']] })

// Assignable to Node's global EventSource (undici-types), instance and constructor.
const asGlobal: globalThis.EventSource = es
const Ctor: typeof globalThis.EventSource = EventSource
// Compiled as CommonJS: a default import is module.exports (the ESM entry exports EventSource as default).
const same: typeof EventSource = DefaultEventSource.EventSource
const asUndici: UndiciEventSource = es
void [asGlobal, Ctor, same, asUndici]

const state: 0 | 1 | 2 = es.readyState
const constants: [0, 1, 2] = [EventSource.CONNECTING, es.OPEN, EventSource.CLOSED]
const url: string = es.url
const last: string = es.lastEventId
void [state, constants, url, last]

es.onopen = (ev: Event) => void ev.type
es.onmessage = (ev: MessageEvent) => void (ev.data as string)
es.onerror = (ev) => {
  const code: number | undefined = ev.code
  const message: string | undefined = ev.message
  const native: string | undefined = ev.error?.code
  void [code, message, native]
}
es.onmessage = null
es.addEventListener('message', (ev) => void ev.lastEventId)
es.addEventListener('error', (ev) => void (ev instanceof ErrorEvent && ev.code))
es.addEventListener('notice', function (ev) {
  // oxlint-disable-next-line typescript/no-this-alias -- checks the type of `this` in a listener
  const self: EventSource = this
  void [self, ev.data, ev.origin]
})
es.addEventListener('open', { handleEvent: (ev: Event) => void ev })
es.close()

// A custom fetch, as the `eventsource` package's users write one: the init it gets spreads into
// the global fetch, its headers are a record with Accept.
new EventSource('http://127.0.0.1:1/sse', { fetch: globalThis.fetch })
new EventSource('http://127.0.0.1:1/sse', {
  fetch: (input, fetchInit) => {
    const accept: 'text/event-stream' = fetchInit.headers.Accept
    const lastId: string | undefined = fetchInit.headers['Last-Event-ID']
    void [accept, lastId]
    return fetch(input, { ...fetchInit, headers: { ...fetchInit.headers, Authorization: 'Bearer t' } })
  },
})
// The `eventsource` package's own FetchLike fits, and a response-like object is enough.
const packageFetch: import('eventsource').FetchLike = (input, fetchInit) => fetch(input, fetchInit)
new EventSource('http://127.0.0.1:1/sse', { fetch: packageFetch })
const ownFetch: FetchLike = async () => ({
  body: null,
  url: '',
  status: 204,
  redirected: false,
  headers: { get: () => null },
})
new EventSource('http://127.0.0.1:1/sse', { fetch: ownFetch })
// @ts-expect-error: fetch is a function
new EventSource('http://127.0.0.1:1/sse', { fetch: 'fetch' })
// @ts-expect-error: readyState is read-only
es.readyState = 1

// fetchEventSource, as the Microsoft package's README uses it.
class FatalError extends Error {}
const ctrl = new AbortController()
const done: Promise<void> = fetchEventSource('http://127.0.0.1:1/sse', {
  method: 'POST',
  headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify({ foo: 'bar' }),
  signal: ctrl.signal,
  openWhenHidden: true,
  async onopen(response) {
    if (response.ok && response.headers.get('content-type') === EventStreamContentType) return
    if (response.status >= 400 && response.status < 500 && response.status !== 429) throw new FatalError()
    const text: string = await response.text()
    throw new Error(text)
  },
  onmessage(msg: EventSourceMessage) {
    const fields: [string, string, string, number | undefined] = [msg.id, msg.event, msg.data, msg.retry]
    if (msg.event === 'FatalError') throw new FatalError(fields[2])
  },
  onclose() {
    throw new Error('retry')
  },
  onerror(err) {
    if (err instanceof FatalError) throw err
    return 1000
  },
  timeout: 60_000,
  client: new SSEClient(),
})
void done
void fetchEventSource(new URL('http://127.0.0.1:1/sse'), { onerror: () => {} })
void fetchEventSource(new Request('http://127.0.0.1:1/sse'), {})
// @ts-expect-error: onmessage gets one message object
void fetchEventSource('http://127.0.0.1:1/sse', { onmessage: (data: string, more: number) => void [data, more] })

// A custom fetch, as the Microsoft package's users pass one (auth refresh, signing, mocks).
void fetchEventSource('http://127.0.0.1:1/sse', { fetch: globalThis.fetch })
void fetchEventSource('http://127.0.0.1:1/sse', {
  fetch: async (input, fetchInit) => {
    const headers = new Headers(fetchInit?.headers)
    headers.set('authorization', 'Bearer refreshed')
    return fetch(input, { ...fetchInit, headers })
  },
})
// @ts-expect-error: fetch is a fetch function
void fetchEventSource('http://127.0.0.1:1/sse', { fetch: 42 })
