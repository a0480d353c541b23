// Types of native-sse/eventsource: the WHATWG EventSource interface, written so that an instance is
// assignable where the DOM lib's or undici's (Node's global) `EventSource` type is expected, plus
// the `eventsource` package's error fields and native-sse's request options.
import type { SSEClient, SseError } from '../../index.js'

// The DOM's listener types, declared here: @types/node does not make them global.
export interface EventListenerOptions {
  capture?: boolean
}
export interface AddEventListenerOptions extends EventListenerOptions {
  once?: boolean
  passive?: boolean
  signal?: AbortSignal
}
export type EventListenerOrEventListenerObject = ((ev: Event) => unknown) | { handleEvent(ev: Event): unknown }

/** Options of `new EventSource(url, init)`. */
export interface EventSourceInit {
  /** As the spec; kept and reported by `withCredentials` (Node has no cookie jar to apply it to). */
  withCredentials?: boolean
  /** Extension: the request method (default 'GET'); the same on every reconnect. */
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'get' | 'post' | 'put' | 'patch' | 'delete'
  /** Extension: request headers (a record, pairs or a Headers); `accept: text/event-stream` is added unless set. */
  headers?: Record<string, string> | Iterable<readonly [string, string]>
  /** Extension: the request body, sent on every reconnect. An object or array is sent as JSON. */
  body?: string | Buffer | Uint8Array | Record<string, unknown> | unknown[]
  /** Extension: ms without response headers or body bytes before a reconnect (default 300000, as Node's fetch; 0 = off). */
  timeout?: number
  /** Extension: the SSEClient to send through (its baseUrl is not used; its headers, ca, proxy... are). */
  client?: SSEClient
  /**
   * A fetch that makes every request instead of the native transport, called as the `eventsource`
   * package calls it: `fetch(url, { mode, redirect, headers: { Accept, 'Last-Event-ID'? }, cache,
   * signal })` (plus `method`, `headers` and `body` when given above). The Response's body is read
   * through the native parser; `timeout` and `client` do not apply. `globalThis.fetch` itself keeps
   * the native transport.
   */
  fetch?: FetchLike
}

/** A fetch for `EventSourceInit.fetch`, typed as the `eventsource` package types it. */
export type FetchLike = (url: string | URL, init: EventSourceFetchInit) => Promise<FetchLikeResponse>

/** What a custom fetch is called with. `close()` aborts `signal`. */
export interface EventSourceFetchInit {
  signal: { aborted: boolean } | any
  headers: {
    [key: string]: string
    Accept: 'text/event-stream'
  }
  mode: 'cors' | 'no-cors' | 'same-origin'
  /** Set only where there is a `window` (as the `eventsource` package does): never in Node. */
  credentials?: 'include' | 'omit' | 'same-origin'
  cache: 'no-store'
  redirect: 'error' | 'follow' | 'manual'
}

/** A reader of a custom fetch's body: its chunks are bytes (a Uint8Array, an ArrayBuffer or a view). */
export interface ReaderLike {
  read(): Promise<{ done: false; value: unknown } | { done: true; value?: unknown }>
  cancel(): Promise<void>
}

/** What a custom fetch resolves with: a Response, or anything with these fields. */
export interface FetchLikeResponse {
  readonly body: { getReader(): ReaderLike } | Response['body'] | null
  readonly url: string
  readonly status: number
  readonly redirected: boolean
  readonly headers: { get(name: string): string | null }
}

/** The `error` event, with the extra fields of the `eventsource` package and the native error. */
export declare class ErrorEvent extends Event {
  constructor(
    type: string,
    init?: {
      bubbles?: boolean
      cancelable?: boolean
      composed?: boolean
      code?: number
      message?: string
      error?: SseError
    },
  )
  /** The HTTP status, when the server's answer failed the connection (as the `eventsource` package). */
  code?: number | undefined
  /** What went wrong. */
  message?: string | undefined
  /** The native SseError behind the event, when there is one (`error.code` is e.g. 'NETWORK'). */
  error?: SseError | undefined
}

export interface EventSourceEventMap {
  error: ErrorEvent
  message: MessageEvent
  open: Event
}

/**
 * A WHATWG EventSource over the native client. Reconnects forever after a dropped connection or
 * the end of the response (with Last-Event-ID, waiting the server's `retry`); fails for good
 * (CLOSED, one error event) on a status other than 200, on 204 and on a wrong content-type.
 */
export declare class EventSource extends EventTarget {
  constructor(url: string | URL, init?: EventSourceInit)
  static readonly CONNECTING: 0
  static readonly OPEN: 1
  static readonly CLOSED: 2
  readonly CONNECTING: 0
  readonly OPEN: 1
  readonly CLOSED: 2
  /** 0 CONNECTING, 1 OPEN, 2 CLOSED. */
  readonly readyState: 0 | 1 | 2
  /** The URL given (after parsing), also after redirects. */
  readonly url: string
  readonly withCredentials: boolean
  /** Extension: the last event ID string, sent as Last-Event-ID when reconnecting. */
  readonly lastEventId: string
  // The getters read null when nothing is set. They are typed without `| null` because undici's
  // EventSource type (Node's global one) declares them so, and a `| null` here would make an
  // instance unassignable to it; the setters take null, which unsubscribes.
  get onopen(): (ev: Event) => unknown
  set onopen(listener: ((ev: Event) => unknown) | null)
  get onmessage(): (ev: MessageEvent) => unknown
  set onmessage(listener: ((ev: MessageEvent) => unknown) | null)
  get onerror(): (ev: ErrorEvent) => unknown
  set onerror(listener: ((ev: ErrorEvent) => unknown) | null)
  /** Stops everything: no event is dispatched after it returns, also when called from a listener. */
  close(): void
  addEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void
  addEventListener(
    type: string,
    listener: (this: EventSource, event: MessageEvent) => unknown,
    options?: boolean | AddEventListenerOptions,
  ): void
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  removeEventListener<K extends keyof EventSourceEventMap>(
    type: K,
    listener: (this: EventSource, ev: EventSourceEventMap[K]) => unknown,
    options?: boolean | EventListenerOptions,
  ): void
  removeEventListener(
    type: string,
    listener: (this: EventSource, event: MessageEvent) => unknown,
    options?: boolean | EventListenerOptions,
  ): void
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void
}
