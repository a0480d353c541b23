// Types of native-sse/fetch-event-source: those of @microsoft/fetch-event-source 2.x, so that code
// typed against it compiles unchanged, plus native-sse's extensions.
import type { SSEClient } from '../../index.js'

export declare const EventStreamContentType: 'text/event-stream'

/** One event, as the package delivers it. */
export interface EventSourceMessage {
  /** The last event id ("" before the server sent one). */
  id: string
  /** The event type; "" for an event without an event field. */
  event: string
  data: string
  /** Set when this event carried a retry field. */
  retry?: number
}

export interface FetchEventSourceInit extends Omit<RequestInit, 'headers'> {
  /** Request headers; `accept: text/event-stream` is added unless set. */
  headers?: Record<string, string> | Iterable<readonly [string, string]>
  /**
   * Called with the response before any message; may be async and may throw (or reject) to fail the
   * attempt. Without it, a content-type that does not start with text/event-stream fails it. An
   * HTTP error status reaches it too (`ok` false, the first bytes of the body in `text()`).
   */
  onopen?: (response: Response) => void | Promise<void>
  onmessage?: (ev: EventSourceMessage) => void
  /** The response ended cleanly; the promise then resolves (throw to retry instead). */
  onclose?: () => void
  /**
   * An attempt failed: return the ms to wait before the next one (default: the server's retry,
   * else 1000), or throw to stop: the promise rejects with what was thrown.
   */
  onerror?: (err: any) => number | null | undefined | void
  /** Accepted and ignored: there is no document in Node. */
  openWhenHidden?: boolean
  /**
   * A fetch that makes each attempt's request instead of the native client, called as the package
   * calls it: `fetch(input, { ...init, headers, signal })` without this module's callbacks and
   * extensions. onopen gets the Response it returns; its body is read through the native parser.
   * `timeout` and `client` do not apply. `globalThis.fetch` itself keeps the native client.
   */
  fetch?: typeof fetch
  /** Extension: ms without response headers or body bytes before an attempt fails (default 300000, as Node's fetch; 0 = off). */
  timeout?: number
  /** Extension: the SSEClient to send through (its headers, ca, proxy... apply). */
  client?: SSEClient
}

/**
 * Streams `input` until the response ends (resolves), `init.signal` aborts (resolves) or
 * `init.onerror` throws (rejects with what it threw).
 */
export declare function fetchEventSource(input: string | URL | Request, init?: FetchEventSourceInit): Promise<void>
