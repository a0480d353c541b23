// Types of native-sse (hand-written; the binding's own types are binding.d.ts). They need neither
// @types/node nor the DOM library: binary data is Uint8Array/ArrayBuffer, and a signal is any
// object with AbortSignal's shape.

/** What an AbortSignal offers that the package uses: Node's and the DOM's both fit. */
export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void
  removeEventListener(type: 'abort', listener: () => void): void
}

/** Headers as an object of strings, a `Headers`, a `Map`, or `[name, value]` entries. */
export type HeadersInit =
  Record<string, string | undefined> | Iterable<readonly [string, string]> | { entries(): Iterable<[string, string]> }

/**
 * The request body. An object or array (any object type, interfaces included) is sent as JSON
 * (JSON.stringify) with content-type application/json; a string as it is; binary data
 * (Uint8Array, Buffer, any typed array or DataView, ArrayBuffer) as bytes; a URLSearchParams as a
 * form (application/x-www-form-urlencoded).
 */
export type RequestBody = object | string | ArrayBuffer | ArrayBufferView

/** Options of every request, as defaults on the client or per request (where they win). */
export interface CommonOptions {
  /** Default {}; `accept: text/event-stream` is added unless given. Per request, names win one by one. */
  headers?: HeadersInit | undefined
  /**
   * Milliseconds, default 30000: the longest wait with no progress (connect and response headers,
   * then silence between body bytes). 0 disables it.
   */
  timeout?: number | undefined
  /**
   * Default 5: reconnects after a timeout or a dropped connection (never after an HTTP error status
   * other than 429/503, or a bad content-type).
   */
  reconnectCount?: number | undefined
  /** Milliseconds before a reconnect when the server sent no retry field (default 1000). */
  retryDelay?: number | undefined
  /** Bytes; a larger event fails the request with EVENT_TOO_LARGE (default 16 MiB). */
  maxEventSize?: number | undefined
}

/** Defaults for every request of a client, and its connection settings. */
export interface ClientOptions extends CommonOptions {
  /** Relative request URLs are resolved against it. */
  baseUrl?: string | undefined
  /** Extra trusted CA certificates (PEM), added to the system roots. */
  ca?: string | Uint8Array | undefined
  /** Client certificate (PEM) for mutual TLS, with `key`. */
  cert?: string | Uint8Array | undefined
  /** The client certificate's private key (PEM). */
  key?: string | Uint8Array | undefined
  /** Proxy URL; by default HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply. */
  proxy?: string | undefined
}

/** What `onOpen` receives: the response status and its headers (lower-case names; repeated ones joined with ", "). */
export interface SseOpenInfo {
  status: number
  headers: Record<string, string>
}

/** One event, as delivered to `onMessage`. */
export interface SseMessage {
  /** The event's data, lines joined with "\n" (WHATWG event-stream rules). */
  data: string
  /** "message" when the stream named none. */
  event: string
  /** The last event id in force ("" if none); it persists across events without an id field. */
  id: string
  /** Set when this event carried a retry field (milliseconds). */
  retry?: number
}

/** Options of one request. */
export interface RequestOptions extends CommonOptions {
  /** Absolute http(s) URL, or relative to the client's `baseUrl`. */
  url: string
  /** See `RequestBody`. */
  body?: RequestBody | null | undefined
  /**
   * Milliseconds, default none: the longest wait between two dispatched events. Comments and
   * keep-alives do not count as progress here.
   */
  eventTimeout?: number | undefined
  /**
   * Default 'with-id': once events were delivered, reconnect only if the server has sent an id
   * field in this request (it speaks the Last-Event-ID resume protocol); a re-sent POST to an AI
   * endpoint otherwise starts a new generation. Before any event: always.
   */
  reconnectAfterEvents?: 'with-id' | 'always' | 'never' | undefined
  /** Sent as Last-Event-ID on the first attempt. */
  lastEventId?: string | undefined
  /** E.g. '[DONE]': an event whose data equals it ends the request cleanly and is not delivered. */
  doneData?: string | undefined
  /** Default true: a response that is not text/event-stream fails with BAD_CONTENT_TYPE. */
  strictContentType?: boolean | undefined
  /** Aborting it is the same as `handle.abort()`. */
  signal?: AbortSignalLike | undefined
  onOpen?: ((res: SseOpenInfo) => void) | undefined
  onMessage?: ((msg: SseMessage) => void) | undefined
  /** Every failed attempt (`willRetry` true while a reconnect follows), then the final failure. */
  onError?: ((err: SseError) => void) | undefined
  /** Once, when the request has ended for any reason but abort(): also after the final onError. */
  onClose?: (() => void) | undefined
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

export type SseErrorCode =
  | 'TIMEOUT'
  | 'HTTP_STATUS'
  | 'BAD_CONTENT_TYPE'
  | 'NETWORK'
  | 'TLS'
  | 'INVALID_URL'
  | 'INVALID_OPTIONS'
  | 'EVENT_TOO_LARGE'
  | 'ABORTED'
  | 'CALLBACK_THREW'

interface SseErrorFields extends Error {
  readonly name: 'SseError'
  /** 0 for the first attempt, 1.. for reconnects. */
  attempt: number
  /** True while reconnects remain; the last onError has false. */
  willRetry: boolean
  /** For CALLBACK_THREW: the value the callback threw. */
  cause?: unknown
}

/** An HTTP error status: `status` and the first bytes of the response `body` are set. */
export interface SseHttpStatusError extends SseErrorFields {
  code: 'HTTP_STATUS'
  status: number
  body: string
}

/** Any other failure. */
export interface SseOtherError extends SseErrorFields {
  code: Exclude<SseErrorCode, 'HTTP_STATUS'>
  status?: undefined
  body?: undefined
}

/**
 * Every error the package produces: what onError receives, what `done` rejects with, and what
 * post()/request()/stream() and `new SSEClient()` throw for bad input (INVALID_URL,
 * INVALID_OPTIONS). Checking `code` narrows it: after `err.code === 'HTTP_STATUS'`, `status` and
 * `body` are there.
 */
export type SseError = SseHttpStatusError | SseOtherError
export declare const SseError: {
  new (code: SseErrorCode, message: string): SseError
  readonly prototype: SseError
}

/** Whether a value is an SseError (the same as `value instanceof SseError`). */
export declare function isSseError(value: unknown): value is SseError

/** How a request ended: the body ended ('end'), `doneData` arrived ('done'), or it was aborted. */
export type SseEnd = 'end' | 'done' | 'abort'

/** The abortable handle that post() and request() return (the seed's `xhr`). */
export declare class SseRequest {
  private constructor()
  /** Stops the request and closes its connection. Idempotent; no callback runs after it returns. */
  abort(): void
  /** Resolves with how the request ended; rejects with the final SseError. */
  readonly done: Promise<SseEnd>
  /**
   * 0 CONNECTING, 1 OPEN, 2 CLOSED, as EventSource's: inside a callback it describes the event
   * being handled (1 in onOpen and onMessage, 0 in a retried onError, 2 in the final onError and
   * in onClose), not the reader thread's state.
   */
  readonly readyState: 0 | 1 | 2
  /** The last event id in force as of the event being handled ("" if none). */
  readonly lastEventId: string
  /** 0 for the first attempt, 1.. for reconnects, as of the event being handled. */
  readonly attempt: number
}

/**
 * What stream() returns: the request's messages as an async iterator. The loop ends when the
 * request ends or is aborted, and throws the final SseError; leaving it early aborts the request.
 * A loop that falls behind pauses the reader (at 1,024 queued messages or 1 Mi UTF-16 units).
 */
export declare class SseStream implements AsyncIterableIterator<SseMessage> {
  private constructor()
  /** Stops the request; the loop ends after the messages already received. */
  abort(): void
  /** The request's `done`. */
  readonly done: Promise<SseEnd>
  /** The handle of the underlying request. */
  readonly request: SseRequest
  next(): Promise<IteratorResult<SseMessage, undefined>>
  return(): Promise<IteratorResult<SseMessage, undefined>>
  [Symbol.asyncIterator](): SseStream
}

/** An SSE instance (made by `SSEClient.create()`): sends streaming requests, aborts them all at once. */
export declare class ServerSentEvents {
  private constructor()
  /** The instance's id, unique within its SSEClient: `client.get(id)` returns this instance. */
  readonly id: number
  /** A streaming POST (the seed's `post`). */
  post(options: RequestOptions): SseRequest
  /** A streaming request with any of GET, POST, PUT, PATCH, DELETE (default POST). */
  request(options: RequestOptions & { method?: HttpMethod | Lowercase<HttpMethod> | undefined }): SseRequest
  /** The same request as `post`, as an async iterator of messages. */
  stream(options: Omit<RequestOptions, 'onMessage'>): SseStream
  /** Aborts every open request of this instance. */
  abortAll(): void
}

/** Creates and manages SSE instances (the seed's SSEClient). Options given here are defaults for every request. */
export declare class SSEClient {
  constructor(defaults?: ClientOptions)
  /** A new registered instance with a unique numeric id. */
  create(): ServerSentEvents
  /** The registered instance with this id, or null. */
  get(id: number): ServerSentEvents | null
  /** Aborts the instance's open requests and unregisters it. False if it was not registered here. */
  delete(sse: ServerSentEvents | number): boolean
  /** Aborts everything and unregisters every instance. */
  clear(): void
  /** How many instances are registered. */
  readonly size: number
}
