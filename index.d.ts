// Types of native-sse (hand-written; the binding's own types are binding.d.ts). They need neither
// @types/node nor the DOM library: binary data is Uint8Array/ArrayBuffer, and a signal is any
// object with AbortSignal's shape.

// The web stream types stream() adapts to, merged with the DOM's or Node's where a program has them
// (empty declarations merge), so nothing here needs either library to compile.
declare global {
  interface ReadableStream<R = any> {}
  interface Response {}
}

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
 * form (application/x-www-form-urlencoded); a Blob as its bytes (its `type` as content-type) and a
 * FormData as multipart/form-data, as fetch sends them, both read before the request starts.
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
  /**
   * Default false: with a `baseUrl`, a request `url` that resolves to another origin (an absolute
   * or protocol-relative URL) is refused with INVALID_URL, so it never receives the client's
   * default headers (credentials). A URL on the base's own origin is always accepted.
   */
  allowAbsoluteUrls?: boolean | undefined
  /**
   * Extra trusted CA certificates (PEM), added to the system roots. A lone self-signed certificate
   * (`openssl req -x509`) works too: a server presenting exactly that certificate is trusted.
   */
  ca?: string | Uint8Array | undefined
  /** Client certificate (PEM) for mutual TLS, with `key`. */
  cert?: string | Uint8Array | undefined
  /** The client certificate's private key (PEM). */
  key?: string | Uint8Array | undefined
  /** Proxy URL; by default HTTPS_PROXY / HTTP_PROXY / NO_PROXY apply. */
  proxy?: string | undefined
  /**
   * Default false: HTTP/1.1, one connection per stream (each with its own TCP flow control). true
   * offers HTTP/2 over TLS (ALPN), with fixed 64 KiB stream windows and a 512 MiB connection
   * window, so small events never exhaust h2's frame budget and a stalled stream never holds the
   * connection. When every stream the server allows on one connection is in use, another
   * connection to the origin is opened (up to 32 per origin; docs/http2.md).
   */
  http2?: boolean | undefined
  /**
   * Where resumable generations (`resumable: { id }`) are logged: omitted, the in-process store
   * (one process); a `redis://` or `rediss://` URL (with `user:password@` for AUTH), or its options,
   * for Redis Streams shared by every instance. See docs/resuming.md.
   */
  store?: string | StoreOptions | undefined
}

/** The event-log store of a client (resumable relays). */
export interface StoreOptions {
  /** `redis://` or `rediss://` URL; omitted: the in-process store. */
  url?: string | undefined
  /** Prefix of every key and of the stop channel (default 'nsse:'). */
  prefix?: string | undefined
  /** Milliseconds a finished log stays readable (default 300000, five minutes). */
  ttl?: number | undefined
  /** Entries kept in a running log; a reader behind the oldest one gets RESUME_GAP (default 10000). */
  maxLen?: number | undefined
  /** Milliseconds a producer owns its generation without renewing (default 3000): readers learn of a dead producer within lease + 1 s. */
  lease?: number | undefined
  /** In-process store only: bytes kept per log (default 64 MiB). */
  maxBytes?: number | undefined
  /** `rediss://` only: PEM certificate(s) trusted as roots instead of the system's (a Redis whose certificate a private CA signed). */
  ca?: string | Uint8Array | undefined
}

/** A resumable generation: its events are logged under `id` in the client's store. */
export interface ResumableOption {
  /** The generation id: 1 to 200 printable ASCII characters without `{`, `}` or spaces. */
  id: string
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
  /** "message" when the stream named none; with named `select` pointers, the name that found `data`. */
  event: string
  /** The last event id in force ("" if none); it persists across events without an id field. */
  id: string
  /** Set when this event carried a retry field (milliseconds). */
  retry?: number
}

/** Named JSON Pointers for `select`: each name becomes the `event` of the values its pointer finds. */
export type SelectFields = Readonly<Record<string, string>>

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
  /**
   * A JSON Pointer (RFC 6901), e.g. '/choices/0/delta/content': each event's data becomes the value
   * there, found natively without building a JS object: a JSON string as its text (escapes
   * decoded), any other value as its JSON text. Applies to `onMessage`, `stream()` and `relay()`.
   *
   * Or named pointers, e.g. `{ content: '/choices/0/delta/content', tools: '/choices/0/delta/tool_calls' }`:
   * each event gives one message per name whose pointer finds a value, in the object's order, with
   * that name as its `event` (in `relay()`, its `event:` field). Names are non-empty single lines.
   */
  select?: string | SelectFields | undefined
  /**
   * Default 'keep': an event whose data is not JSON or has no value at `select` (none at any of
   * its named pointers: '[DONE]', a usage chunk with empty `choices`, an error event) is delivered
   * as it came; 'drop' skips it.
   */
  selectMissing?: 'keep' | 'drop' | undefined
  /**
   * Assemble the provider's final message natively as the deltas arrive (text, tool calls with
   * their arguments parsed once, refusal, stop reason, usage): `request.final` resolves with it.
   * A provider's error event fails the request with PROVIDER_ERROR. `onMessage` still sees each event.
   */
  accumulate?: AccumulateFormat | undefined
  /**
   * Bytes, with `accumulate`: at most once per this many bytes of a tool call's arguments (and at
   * least an eighth of their length apart, so that the snapshots' total cost stays linear in the
   * arguments' length), `onSnapshot` gets them parsed as far as they came (best effort).
   */
  snapshotEvery?: number | undefined
  /**
   * Milliseconds, 0 to 1000, default 0: the events that arrive within this window after a delivery
   * to JS wait for its end and arrive together, in one delivery (one wake-up of the JS thread); the
   * first event after a quiet period and the request's end are not held back. An event waits at
   * most the window. For many concurrent streams read on one thread, where the wake-ups cost more
   * than the events. In `relay()`, `coalesce` is the relay's own window for writes.
   */
  coalesce?: number | undefined
  /** Aborting it is the same as `handle.abort()`. */
  signal?: AbortSignalLike | undefined
  onOpen?: ((res: SseOpenInfo) => void) | undefined
  onMessage?: ((msg: SseMessage) => void) | undefined
  /** Every failed attempt (`willRetry` true while a reconnect follows), then the final failure. */
  onError?: ((err: SseError) => void) | undefined
  /** Once, when the request has ended for any reason but abort(): also after the final onError. */
  onClose?: (() => void) | undefined
  /** With `snapshotEvery`: a tool call's arguments so far, after the event that brought them. */
  onSnapshot?: ((snapshot: ToolCallSnapshot) => void) | undefined
}

/**
 * A tool call's arguments while they stream (`snapshotEvery`): `index` is the call's index
 * (OpenAI chat), its output index (OpenAI responses) or its content block's index (Anthropic).
 */
export interface ToolCallSnapshot {
  index: number
  id: string
  name: string
  /** The JSON so far, closed where it stands: complete members, and a string value as far as it came. */
  arguments: unknown
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
  | 'REDIRECT'
  | 'BAD_CONTENT_ENCODING'
  | 'CLIENT_CLOSED'
  | 'INSTANCE_DELETED'
  | 'CALLBACK_THREW'
  | 'STORE'
  | 'STORE_FENCED'
  | 'STORE_CLOSED'
  | 'GENERATION_EXISTS'
  | 'RESUME_GAP'
  | 'NOT_FOUND'
  | 'FINISHED'
  | 'PROVIDER_ERROR'

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

/** A provider's error event in a stream read with `accumulate`: `body` is its error object as JSON. */
export interface SseProviderError extends SseErrorFields {
  code: 'PROVIDER_ERROR'
  status?: undefined
  body: string
}

/** Any other failure. */
export interface SseOtherError extends SseErrorFields {
  code: Exclude<SseErrorCode, 'HTTP_STATUS' | 'PROVIDER_ERROR'>
  status?: undefined
  body?: undefined
}

/**
 * Every error the package produces: what onError receives, what `done` rejects with, and what
 * post()/request()/stream() and `new SSEClient()` throw for bad input (INVALID_URL,
 * INVALID_OPTIONS). Checking `code` narrows it: after `err.code === 'HTTP_STATUS'`, `status` and
 * `body` are there.
 */
export type SseError = SseHttpStatusError | SseProviderError | SseOtherError
export declare const SseError: {
  new (code: SseErrorCode, message: string): SseError
  readonly prototype: SseError
}

/** Whether a value is an SseError (the same as `value instanceof SseError`). */
export declare function isSseError(value: unknown): value is SseError

/**
 * How a request ended: the body ended ('end'), `doneData` arrived ('done'), it was aborted, or (a
 * resumable one) its consumer let it go on alone ('detach').
 */
export type SseEnd = 'end' | 'done' | 'abort' | 'detach'

/** The stream formats `accumulate` assembles. */
export type AccumulateFormat = 'openai-chat' | 'openai-responses' | 'anthropic-messages'

/** A tool call of an `openai-chat` final message. */
export interface OpenAIChatToolCall {
  index: number
  id: string
  type: string
  function: {
    name: string
    /** The arguments' JSON text, as streamed. */
    arguments: string
    /** The arguments parsed once, at the end; null when they are not valid JSON. */
    parsed_arguments: unknown
  }
}

/** `accumulate: 'openai-chat'`: the `chat.completion` that the chunks add up to. */
export interface OpenAIChatFinal {
  format: 'openai-chat'
  id: string | null
  object: 'chat.completion'
  created: number | null
  model: string | null
  system_fingerprint?: string
  service_tier?: string
  choices: Array<{
    index: number
    finish_reason: string | null
    message: {
      role: string
      content: string | null
      refusal: string | null
      tool_calls?: OpenAIChatToolCall[]
    }
  }>
  /** The final usage chunk's (`stream_options: { include_usage: true }`), else null. */
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; [key: string]: unknown } | null
}

/** An output item of an `openai-responses` final response (other item types pass through as sent). */
export type OpenAIResponsesItem =
  | {
      type: 'message'
      id: string
      role: 'assistant'
      status: string
      content: Array<
        { type: 'output_text'; text: string; annotations?: unknown[] } | { type: 'refusal'; refusal: string }
      >
    }
  | {
      type: 'function_call'
      id: string
      call_id: string
      name: string
      status: string
      /** The arguments' JSON text, as streamed. */
      arguments: string
      /** The arguments parsed once, at the end; null when they are not valid JSON. */
      parsed_arguments: unknown
    }
  | { type: 'reasoning'; id: string; summary: unknown[] }

/** `accumulate: 'openai-responses'`: the response, its output assembled from the deltas. */
export interface OpenAIResponsesFinal {
  format: 'openai-responses'
  id: string
  object: 'response'
  created_at: number
  model: string
  status: string
  output: OpenAIResponsesItem[]
  /** The text of every output_text part, joined. */
  output_text: string
  usage: { input_tokens: number; output_tokens: number; total_tokens: number; [key: string]: unknown } | null
  incomplete_details?: unknown
}

/** A content block of an `anthropic-messages` final message (other block types pass through as sent). */
export type AnthropicContentBlock =
  | { type: 'text'; text: string; citations?: unknown[] }
  | {
      type: 'tool_use' | 'server_tool_use'
      id: string
      name: string
      /** The input parsed once, at the end (null when its JSON is not valid: see `input_json`). */
      input: unknown
      input_json?: string
    }
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'redacted_thinking'; data: string }

/** `accumulate: 'anthropic-messages'`: the message, as the Anthropic SDK's `finalMessage()` returns it. */
export interface AnthropicMessagesFinal {
  format: 'anthropic-messages'
  id: string
  type: 'message'
  role: 'assistant'
  model: string
  content: AnthropicContentBlock[]
  stop_reason: string | null
  stop_sequence: string | null
  /** `message_start`'s usage, updated by `message_delta`'s. */
  usage: { input_tokens: number; output_tokens: number; [key: string]: unknown }
}

/** What `accumulate` assembles, told apart by `format`. */
export type FinalMessage = OpenAIChatFinal | OpenAIResponsesFinal | AnthropicMessagesFinal

/** The final message of a request with `accumulate: F`. */
export type FinalMessageOf<F> = F extends 'openai-chat'
  ? OpenAIChatFinal
  : F extends 'openai-responses'
    ? OpenAIResponsesFinal
    : F extends 'anthropic-messages'
      ? AnthropicMessagesFinal
      : undefined

/** The abortable handle that post() and request() return (the original front-end `sse` module's `xhr`). */
export declare class SseRequest<F extends AccumulateFormat | undefined = AccumulateFormat | undefined> {
  private constructor()
  /** Stops the request and closes its connection. Idempotent; no callback runs after it returns. */
  abort(): void
  /** Resolves with how the request ended; rejects with the final SseError. */
  readonly done: Promise<SseEnd>
  /**
   * With `accumulate`: the assembled message, once the request ended cleanly (undefined after
   * abort(), or without `accumulate`); rejects as `done` does (PROVIDER_ERROR for a provider's error event).
   */
  readonly final: Promise<FinalMessageOf<F> | undefined>
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
export declare class SseStream<
  F extends AccumulateFormat | undefined = AccumulateFormat | undefined,
> implements AsyncIterableIterator<SseMessage> {
  private constructor()
  /** Stops the request; the loop ends after the messages already received. */
  abort(): void
  /**
   * Resolves once the request has started: the server answered (a resumable stream: its log is
   * open), or it ended first; rejects with the error that ended it before that. `await` it before
   * `toResponse()` to answer an error status yourself (503 when the store refused).
   */
  readonly ready: Promise<void>
  /**
   * Stops receiving: a resumable generation goes on without this stream (it can be resumed); any
   * other request is aborted. What the web adapters do when their consumer leaves.
   */
  detach(): void
  /** The request's `done`. */
  readonly done: Promise<SseEnd>
  /** The request's `final` (with `accumulate`). */
  readonly final: Promise<FinalMessageOf<F> | undefined>
  /** The handle of the underlying request. */
  readonly request: SseRequest<F>
  next(): Promise<IteratorResult<SseMessage, undefined>>
  return(): Promise<IteratorResult<SseMessage, undefined>>
  [Symbol.asyncIterator](): SseStream<F>
  /** A web ReadableStream of the messages; cancelling it aborts the request. */
  toReadableStream(options?: { format?: 'object' | undefined }): ReadableStream<SseMessage>
  /**
   * A web ReadableStream of the bytes of a valid event stream (UTF-8), for a web Response: ids
   * only when they change, heartbeat comments while the upstream is silent, a terminal error event.
   */
  toReadableStream(options: { format: 'sse' } & EventStreamOptions): ReadableStream<Uint8Array>
  /**
   * A web Response streaming the events with the event-stream headers, for web-standard handlers
   * (Next.js App Router, Hono, Nuxt/h3, Bun, Deno). `init` is the Response's status and headers.
   */
  toResponse(
    init?: { status?: number; statusText?: string; headers?: HeadersInit } | undefined,
    options?: EventStreamOptions,
  ): Response
  /** An object-mode Node Readable of the messages; destroying it aborts the request. */
  toNodeReadable(options?: { highWaterMark?: number | undefined }): NodeReadableLike<SseMessage>
}

/** The Node Readable toNodeReadable() returns, as far as these types need @types/node not. */
export interface NodeReadableLike<T> extends AsyncIterable<T> {
  pipe<D>(destination: D, options?: { end?: boolean }): D
  destroy(error?: Error): this
  on(event: string, listener: (...args: any[]) => void): this
}

/** An event to write: `event` defaults to "message"; `id` and `retry` are left out when absent. */
export interface EncodableMessage {
  data: string
  event?: string | undefined
  id?: string | undefined
  retry?: number | undefined
}

/** How a relayed or adapted stream writes its events. */
export interface EventStreamOptions {
  /** Map or drop each event (return null or undefined to drop it). */
  transform?: ((msg: SseMessage) => EncodableMessage | null | undefined) | undefined
  /** Milliseconds of upstream silence before a `:` comment line is sent (default 15000; false or 0: none). */
  heartbeat?: number | false | undefined
  /**
   * The terminal event on a final upstream error: default `event: error` with `{"code","message"}`
   * as data (never headers or secrets); a string names the event; a function builds it; false: none.
   */
  errorEvent?: string | false | ((err: unknown) => EncodableMessage | null) | undefined
}

/** Options of `relay()`: the request's, plus how the response is written. */
export interface RelayOptions extends RequestOptions, EventStreamOptions {
  method?: HttpMethod | Lowercase<HttpMethod> | undefined
  /** An event written after a clean end (default none), e.g. `{ event: 'end', data: '' }`. */
  endEvent?: EncodableMessage | undefined
  /** Send the browser's Last-Event-ID request header upstream as `lastEventId` (default false). */
  forwardLastEventId?: boolean | undefined
  /** The incoming request, for a response without `res.req` (forwardLastEventId reads its headers). */
  request?: { headers: Record<string, string | string[] | undefined> } | undefined
  /** Extra response headers (the event-stream ones win). */
  responseHeaders?: Record<string, string> | undefined
  /**
   * Milliseconds, default 0 (each delivery written at once): after a write, the events that arrive
   * within this window go out together in one write when it ends. The first event of a burst is
   * never held back; at most 1000.
   */
  coalesce?: number | undefined
  /**
   * Log this generation in the client's store so that a browser can resume it on any instance
   * (`client.resume`). The response's headers go out once the log is open; the browser leaving
   * does not stop the generation; the terminal events are the log's (`end`, `error`, `stopped`,
   * `interrupted`), so `transform`, `errorEvent` and `endEvent` do not apply.
   */
  resumable?: ResumableOption | undefined
}

/** Options of `client.resume(res, options)`. */
export interface ResumeOptions {
  /** The generation id. */
  id: string
  /** Replay the events after this id (default: the request's Last-Event-ID header; none: all). */
  lastEventId?: string | undefined
  /** Milliseconds without a write before a `:` comment line is sent (default 15000; false or 0: none). */
  heartbeat?: number | false | undefined
  /** The incoming request, for a response without `res.req` (its Last-Event-ID header is read). */
  request?: { headers: Record<string, string | string[] | undefined> } | undefined
  /** Extra response headers (the event-stream ones win). */
  responseHeaders?: Record<string, string> | undefined
}

/**
 * How a relay ended: the upstream ended ('end'), doneData ('done'), abort() or the signal
 * ('abort'), the browser left first ('closed'), or a final upstream error or a transform that threw
 * ('error': `handle.error` holds it; the browser got the terminal error event).
 */
export type RelayEnd = SseEnd | 'closed' | 'error' | 'not-found'

/**
 * What relay() and resume() return. Awaiting it waits for the end (and gives undefined, for
 * frameworks that send what a handler returns); it rejects only when nothing was sent (a resumable
 * relay whose store refused: STORE, GENERATION_EXISTS, ...), so the caller can still answer.
 */
export interface RelayHandle extends PromiseLike<void> {
  abort(): void
  readonly request: SseRequest
  /** Never rejects: the browser has been told already. */
  readonly done: Promise<RelayEnd>
  readonly error: unknown
}

/** The Node response relay() writes to: http.ServerResponse (Express `res`, Fastify `reply.raw`) or an HTTP/2 one. */
export interface ServerResponseLike {
  write(chunk: string): boolean
  on(event: string, listener: (...args: any[]) => void): unknown
}

/** One event as event-stream text (each data line its own `data:` field; CR, LF and CRLF split lines). */
export declare function encodeEvent(msg: EncodableMessage): string
/** A comment line (`:` and the text), e.g. a heartbeat. */
export declare function encodeComment(text?: string): string

/** An SSE instance (made by `SSEClient.create()`): sends streaming requests, aborts them all at once. */
export declare class ServerSentEvents {
  private constructor()
  /** The instance's id, unique within its SSEClient: `client.get(id)` returns this instance. */
  readonly id: number
  /** A streaming POST (the original front-end `sse` module's `post`). */
  post<F extends AccumulateFormat | undefined = undefined>(options: RequestOptions & { accumulate?: F }): SseRequest<F>
  /** A streaming request with any of GET, POST, PUT, PATCH, DELETE (default POST). */
  request<F extends AccumulateFormat | undefined = undefined>(
    options: RequestOptions & { accumulate?: F; method?: HttpMethod | Lowercase<HttpMethod> | undefined },
  ): SseRequest<F>
  /** The same request as `request` (POST unless `method` says otherwise), as an async iterator of messages. */
  stream<F extends AccumulateFormat | undefined = undefined>(
    options: Omit<RequestOptions, 'onMessage'> & {
      accumulate?: F
      method?: HttpMethod | Lowercase<HttpMethod> | undefined
      /** Log this generation in the client's store (see RelayOptions.resumable). */
      resumable?: ResumableOption | undefined
    },
  ): SseStream<F>
  /**
   * Relays a request to a Node response as an event stream: headers at once, exact re-encoding,
   * the upstream aborted when the browser leaves, heartbeats, back-pressure, a terminal error event.
   */
  relay(res: ServerResponseLike, options: RelayOptions): RelayHandle
  /** Aborts every open request of this instance. */
  abortAll(): void
}

/** Creates and manages SSE instances (the original front-end `sse` module's SSEClient). Options given here are defaults for every request. */
/** `client.stats()`: a snapshot of the client's counters since it was made. */
export interface ClientStats {
  /** Requests started (resume readers included). */
  started: number
  /** Requests started and not ended yet. */
  open: number
  /** Events delivered, from upstreams and from logs. */
  events: number
  /** Response body bytes received from upstreams, after content decoding. */
  bytes: number
  /** Failed attempts that were retried. */
  reconnects: number
  /** Errors by code (`NETWORK`, `HTTP_STATUS`, ...): every failed attempt, retried or final. */
  errors: Record<string, number>
}

/** Where a request goes: `path` has its query values redacted (`?key=***`), as in error messages. */
export interface DiagnosticsRequest {
  /** The request's id, unique in the process: it ties the messages of one request together. */
  id: number
  method: string
  /** `scheme://host:port`, without credentials. */
  origin: string
  path: string
}

/** `native-sse:request:start`, also the context object of the `native-sse:request` tracing channel. */
export interface DiagnosticsRequestStart extends DiagnosticsRequest {
  attempt: 0
  /** The generation id of a resumable relay's request. */
  resumable: string | undefined
  /** The `native-sse:relay:start` message of the relay that started it. */
  relay: DiagnosticsRelayStart | undefined
  /** Tracing channel only: how it ended (asyncStart/asyncEnd) and its final error (error). */
  result?: DiagnosticsEnd['how']
  error?: SseError
}

/** `native-sse:request:open`: a response arrived. */
export interface DiagnosticsOpen extends DiagnosticsRequest {
  attempt: number
  status: number
  /** '1.0', '1.1', '2' or '3'. */
  httpVersion: string | undefined
}

/** `native-sse:request:reconnect`: attempt `attempt` failed and is retried after `delay` ms. */
export interface DiagnosticsReconnect extends DiagnosticsRequest {
  attempt: number
  delay: number
  code: SseErrorCode
  status: number | undefined
  error: SseError
}

/** `native-sse:request:error`: the final error. */
export interface DiagnosticsError extends DiagnosticsRequest {
  attempt: number
  error: SseError
}

/** `native-sse:request:end`: the request is over for the JS side. */
export interface DiagnosticsEnd extends DiagnosticsRequest {
  how: 'end' | 'done' | 'abort' | 'detach' | 'error'
  attempt: number
  /** Events and body bytes received; undefined when client.clear()/delete() or abortAll() aborted it. */
  events: number | undefined
  bytes: number | undefined
  /** Milliseconds since the start. */
  duration: number
  /** The final error's code when `how` is 'error'. */
  code: SseErrorCode | undefined
}

/** `native-sse:relay:start`, published before the relay's request starts (`id` is set then). */
export interface DiagnosticsRelayStart {
  id: number | undefined
  resumable: string | undefined
  /** The incoming request (`res.req` or the `request` option). */
  request: unknown
}

/** `native-sse:relay:end`: how the relay ended (its handle's `done`). */
export interface DiagnosticsRelayEnd {
  id: number | undefined
  resumable: string | undefined
  how: 'end' | 'done' | 'abort' | 'closed' | 'error'
  code: string | undefined
  error: unknown
  duration: number
  relay: DiagnosticsRelayStart
}

export declare class SSEClient {
  constructor(defaults?: ClientOptions)
  /** A new registered instance with a unique numeric id. Throws CLIENT_CLOSED after close(). */
  create(): ServerSentEvents
  /** The registered instance with this id, or null. */
  get(id: number): ServerSentEvents | null
  /**
   * Aborts the instance's open requests and unregisters it; its requests are refused from then on
   * (INSTANCE_DELETED). False if it was not registered here.
   */
  delete(sse: ServerSentEvents | number): boolean
  /** delete() for every instance. */
  clear(): void
  /**
   * Ends the client: aborts every open request (their `done` resolves 'abort'), closes its idle
   * sockets, and refuses new requests and instances with CLIENT_CLOSED. Idempotent.
   */
  close(): Promise<void>
  /** How many instances are registered. */
  readonly size: number
  /** The client's live counters since it was made, kept natively (no JS runs per event). */
  stats(): ClientStats
  /**
   * Replays generation `id` to a Node response after `lastEventId` (default: the request's
   * Last-Event-ID header), then follows it live until its terminal event; 404 for an unknown or
   * expired id. Works on any instance sharing the store.
   */
  resume(res: ServerResponseLike, options: ResumeOptions): RelayHandle
  /** The same as an SseStream (`.toResponse()` for web handlers); null for an unknown or expired id. */
  resume(options: { id: string; lastEventId?: string | undefined }): Promise<SseStream | null>
  /** Stops generation `id` wherever it runs; false if it is unknown or already finished. */
  stop(id: string): Promise<boolean>
  /** Aborts every open request and closes the store's connections. */
  close(): Promise<void>
}
