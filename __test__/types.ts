// Type-checked by `npm test` (tsc --noEmit): uses the whole public API as a TypeScript user would,
// and the @ts-expect-error lines prove the types reject what the addon rejects.
import {
  SSEClient,
  ServerSentEvents,
  SseRequest,
  type SelectFields,
  type ClientOptions,
  type RequestOptions,
  type SseMessage,
  type SseOpenInfo,
  type SseStream,
  type RelayHandle,
  SseError as SseErrorClass,
  isSseError,
  encodeEvent,
  encodeComment,
} from '../index.js'
type SseError = SseErrorClass

const defaults: ClientOptions = {
  baseUrl: 'http://127.0.0.1:3000/v1/',
  headers: { authorization: 'Bearer t' },
  timeout: 30_000,
  reconnectCount: 5,
  retryDelay: 1000,
  maxEventSize: 16 * 1024 * 1024,
  ca: Buffer.from(''),
  cert: '',
  key: '',
  proxy: 'http://127.0.0.1:8080',
}
const sseClient = new SSEClient(defaults)
const plain: SSEClient = new SSEClient()
const sse: ServerSentEvents = sseClient.create()
const id: number = sse.id
const same: ServerSentEvents | null = sseClient.get(id)
const size: number = sseClient.size

const controller = new AbortController()
const options: RequestOptions = {
  url: 'chat',
  body: { name: 'andy' },
  headers: {},
  timeout: 0,
  eventTimeout: 60_000,
  reconnectCount: 0,
  reconnectAfterEvents: 'with-id',
  lastEventId: '41',
  doneData: '[DONE]',
  strictContentType: true,
  retryDelay: 500,
  maxEventSize: 1 << 20,
  signal: controller.signal,
  onOpen(info: SseOpenInfo) {
    const status: number = info.status
    const type: string | undefined = info.headers['content-type']
    void [status, type]
  },
  onMessage({ data, event, id, retry }: SseMessage) {
    const text: string = data + event + id
    const ms: number | undefined = retry
    void [text, ms]
  },
  onError(err: SseError) {
    const code: SseError['code'] = err.code
    const status: number | undefined = err.status
    const attempt: number = err.attempt
    const willRetry: boolean = err.willRetry
    if (err.code === 'HTTP_STATUS') {
      // Narrowed by code: status and body are there.
      const exact: number = err.status
      const body: string = err.body
      void [exact, body]
    }
    if (code === 'CALLBACK_THREW') void [status, err.body, err.cause]
    void [attempt, willRetry, err.message]
  },
  onClose() {},
}

const req: SseRequest = sse.post(options)
req.abort()
const done: Promise<'end' | 'done' | 'abort' | 'detach'> = req.done
const state: 0 | 1 | 2 = req.readyState
const last: string = req.lastEventId
sse.post({ url: 'x', body: 'raw' })
sse.post({ url: 'x', body: Buffer.from('raw') })
sse.post({ url: 'x', body: new Uint8Array(4) })
sse.post({ url: 'x', body: [1, 2] })
sse.request({ url: 'x', method: 'GET' })
sse.abortAll()

async function consume(): Promise<string[]> {
  const stream: SseStream = sse.stream({ url: 'x', doneData: '[DONE]' })
  const out: string[] = []
  for await (const msg of stream) out.push(msg.data)
  stream.abort()
  await stream.done
  const handle: SseRequest = stream.request
  void handle
  return out
}

const deleted: boolean = sseClient.delete(sse) || sseClient.delete(id)
sseClient.clear()
const closed: Promise<void> = sseClient.close()
const blobBody = sse.post({ url: 'x', body: new Blob(['x'], { type: 'text/plain' }) })
const formBody = sse.post({ url: 'x', body: new FormData() })
function lifetimeCode(err: SseError): string {
  switch (err.code) {
    case 'CLIENT_CLOSED':
    case 'INSTANCE_DELETED':
    case 'REDIRECT':
    case 'BAD_CONTENT_ENCODING':
      return err.code
    default:
      return ''
  }
}
void [plain, same, size, done, state, last, consume, deleted, closed, blobBody, formBody, lifetimeCode]

// @ts-expect-error url is required
sse.post({ body: {} })
// @ts-expect-error a number is not a body
sse.post({ url: 'x', body: 42 })
// @ts-expect-error TRACE is not a method the addon sends
sse.request({ url: 'x', method: 'TRACE' })
// @ts-expect-error header values are strings
sse.post({ url: 'x', headers: { n: 1 } })
// @ts-expect-error readyState is read-only
req.readyState = 1
// @ts-expect-error reconnectAfterEvents has three values
sse.post({ url: 'x', reconnectAfterEvents: 'sometimes' })

// Any object type is a JSON body, interfaces included (an SDK's request type, say).
interface ChatRequest {
  model: string
  stream: boolean
  messages: { role: 'user' | 'assistant'; content: string }[]
}
const chat: ChatRequest = { model: 'm', stream: true, messages: [] }
sse.post({ url: 'x', body: chat })
sse.post({ url: 'x', body: new URLSearchParams({ q: '1' }) })
sse.post({ url: 'x', body: new ArrayBuffer(4) })
sse.post({ url: 'x', headers: new Map([['a', 'b']]) })
sse.post({ url: 'x', headers: [['a', 'b']] })

// Every error is an SseError; isSseError() and instanceof narrow unknown values.
function describe(value: unknown): string {
  if (isSseError(value)) return value.code
  if (value instanceof SseErrorClass) return value.code
  return 'other'
}
void describe

// The relay and the stream adapters.
declare const res: import('node:http').ServerResponse
const relayed = sse.relay(res, { url: 'x', doneData: '[DONE]', heartbeat: false, transform: (m) => ({ data: m.data }) })
const relayEnd: Promise<'end' | 'done' | 'abort' | 'detach' | 'closed' | 'error' | 'not-found'> = relayed.done
async function handler(): Promise<Response> {
  await relayed
  const web: ReadableStream<Uint8Array> = sse.stream({ url: 'x' }).toReadableStream({ format: 'sse' })
  const messages: ReadableStream<SseMessage> = sse.stream({ url: 'x' }).toReadableStream()
  const readable = sse.stream({ url: 'x' }).toNodeReadable()
  void [web, messages, readable]
  return sse.stream({ url: 'x' }).toResponse({ status: 200 })
}
const text: string = encodeEvent({ data: 'a\nb', event: 'x', id: '1' }) + encodeComment('hb')
void [relayEnd, handler, text]

// Resumable relays: a store, a logged relay, resume on any instance, stop, close.
const resumableClient = new SSEClient({ store: { url: 'redis://127.0.0.1:6379', ttl: 60_000, maxLen: 1000 } })
new SSEClient({ store: 'rediss://user:secret@redis.example:6380' })
// @ts-expect-error the store is a URL or an options object
new SSEClient({ store: 6379 })
const logged: RelayHandle = resumableClient.create().relay(res, { url: 'x', resumable: { id: 'gen-1' } })
void logged
// @ts-expect-error the generation id is a string
resumableClient.create().relay(res, { url: 'x', resumable: { id: 1 } })
const resumed: RelayHandle = resumableClient.resume(res, { id: 'gen-1', lastEventId: '1-0' })
void resumed
async function resumeWeb(): Promise<Response | null> {
  const stream = await resumableClient.resume({ id: 'gen-1' })
  return stream === null ? null : stream.toResponse()
}
void resumeWeb
const stopped: Promise<boolean> = resumableClient.stop('gen-1')
void stopped
const storeClosed: Promise<void> = resumableClient.close()
void storeClosed
resumableClient
  .create()
  .stream({ url: 'x', resumable: { id: 'gen-2' } })
  .detach()

// client.stats() and the diagnostics channels' payloads.
import type {
  ClientStats,
  DiagnosticsRequestStart,
  DiagnosticsOpen,
  DiagnosticsReconnect,
  DiagnosticsError,
  DiagnosticsEnd,
  DiagnosticsRelayStart,
  DiagnosticsRelayEnd,
} from '../index.js'
import { instrument } from 'native-sse/otel'
const counters: ClientStats = new SSEClient().stats()
const openCount: number = counters.open
const byCode: number | undefined = counters.errors['NETWORK']
const onEnd = (m: DiagnosticsEnd) => (m.how === 'error' ? m.code : m.events)
const onStart = (m: DiagnosticsRequestStart): DiagnosticsRelayStart | undefined => m.relay
const onOpen = (m: DiagnosticsOpen): string | undefined => m.httpVersion
const onReconnect = (m: DiagnosticsReconnect): number => m.delay + m.attempt
const onFinal = (m: DiagnosticsError): SseError => m.error
const onRelayEnd = (m: DiagnosticsRelayEnd): DiagnosticsRelayStart => m.relay
const stopTracing: () => void = instrument({})
// @ts-expect-error the tracer provider must be one
instrument({ tracerProvider: 1 })
void [openCount, byCode, onEnd, onStart, onOpen, onReconnect, onFinal, onRelayEnd, stopTracing]
// select and accumulate: `final` is typed by the format, and the union narrows on `format`.
async function finals(): Promise<void> {
  const chat = sse.post({
    url: 'x',
    select: '/choices/0/delta/content',
    selectMissing: 'drop',
    accumulate: 'openai-chat',
  })
  const message = await chat.final
  if (message !== undefined) {
    const content: string | null = message.choices[0]!.message.content
    const args: unknown = message.choices[0]!.message.tool_calls?.[0]?.function.parsed_arguments
    void [content, args]
  }
  const claude = await sse.stream({ url: 'x', accumulate: 'anthropic-messages' }).final
  for (const block of claude?.content ?? []) {
    if (block.type === 'text') void (block.text satisfies string)
    else if (block.type === 'tool_use') void (block.input satisfies unknown)
  }
  sse.post({
    url: 'x',
    accumulate: 'openai-responses',
    snapshotEvery: 4096,
    onSnapshot: (s) => void ([s.index, s.id, s.name, s.arguments] satisfies [number, string, string, unknown]),
  })
  const plain: undefined = await sse.post({ url: 'x' }).final
  const any: import('../index.js').FinalMessage | undefined = await (sse.post({ url: 'x' }) as SseRequest).final
  if (any?.format === 'openai-responses') void (any.output_text satisfies string)
  // @ts-expect-error not a format
  sse.post({ url: 'x', accumulate: 'openai' })
  // @ts-expect-error selectMissing is 'keep' or 'drop'
  sse.post({ url: 'x', select: '/a', selectMissing: 'skip' })
  // Named pointers, and coalesce.
  const fields = { content: '/choices/0/delta/content', tools: '/choices/0/delta/tool_calls' } as const
  sse.post({ url: 'x', select: fields satisfies SelectFields, coalesce: 16, onMessage: (m) => void m.event })
  // @ts-expect-error a named pointer is a string
  sse.post({ url: 'x', select: { content: 1 } })
  // @ts-expect-error coalesce is a number of ms
  sse.post({ url: 'x', coalesce: '16' })
  const err = {} as SseError
  if (err.code === 'PROVIDER_ERROR') void (err.body satisfies string)
  void plain
}
void finals
