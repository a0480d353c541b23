// native-sse/otel: the spans instrument() makes, read from the SDK's in-memory exporter: a request
// that reconnects, one that fails, a relay parented to the incoming request's span.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { instrument } from 'native-sse/otel'
import { SSEClient } from '../../index.mjs'
import { startServer, sse } from '../helpers/server.mjs'
import { downstream, startHttp } from '../helpers/relay.mjs'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = provider.getTracer('test')
let uninstrument

before(() => {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  uninstrument = instrument({ tracerProvider: provider })
})
after(() => {
  uninstrument()
  context.disable()
})

const BODY = 'data: one\n\ndata: two\n\n'

test('a request that reconnects once is one CLIENT span with the HTTP attributes, its counts and a reconnect event', async () => {
  exporter.reset()
  let n = 0
  const upstream = await startServer((req, res) => {
    if (n++ === 0) return req.socket.destroy()
    sse(res, BODY)
  })
  try {
    const url = `${upstream.url}?key=sk-secret`
    assert.equal(await new SSEClient().create().post({ url, retryDelay: 1 }).done, 'end')
    const spans = exporter.getFinishedSpans()
    assert.equal(spans.length, 1)
    const [span] = spans
    const port = Number(new URL(upstream.base).port)
    assert.equal(span.name, 'POST')
    assert.equal(span.kind, SpanKind.CLIENT)
    assert.deepEqual(span.attributes, {
      'http.request.method': 'POST',
      'server.address': '127.0.0.1',
      'server.port': port,
      'url.full': `${upstream.base}/sse?key=***`,
      'url.path': '/sse',
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'sse.reconnects': 1,
      'sse.end': 'end',
      'sse.events': 2,
      'sse.bytes': Buffer.byteLength(BODY),
    })
    assert.equal(span.events.length, 1)
    assert.equal(span.events[0].name, 'sse.reconnect')
    assert.equal(span.events[0].attributes['sse.attempt'], 0)
    assert.equal(span.events[0].attributes['error.type'], 'NETWORK')
    assert.equal(typeof span.events[0].attributes['sse.delay_ms'], 'number')
    assert.equal(span.status.code, SpanStatusCode.UNSET)
  } finally {
    await upstream.close()
  }
})

test('a request that fails has error.type, the status code and an ERROR status', async () => {
  exporter.reset()
  const upstream = await startServer((req, res) => res.writeHead(503).end('busy'))
  try {
    const req = new SSEClient().create().request({ url: upstream.url, method: 'GET', reconnectCount: 0 })
    await assert.rejects(req.done, { code: 'HTTP_STATUS' })
    const [span] = exporter.getFinishedSpans()
    assert.equal(span.name, 'GET')
    assert.equal(span.attributes['error.type'], '503')
    assert.equal(span.attributes['http.response.status_code'], 503)
    assert.equal(span.attributes['sse.end'], 'error')
    assert.equal(span.status.code, SpanStatusCode.ERROR)
    assert.equal(span.events.filter((e) => e.name === 'exception').length, 1)
  } finally {
    await upstream.close()
  }
})

test("a relay's span is a child of the incoming request's span, and its request a child of the relay's", async () => {
  exporter.reset()
  const upstream = await startServer((req, res) => sse(res, BODY))
  const sseInstance = new SSEClient().create()
  let serverSpan
  let handle
  const srv = await startHttp((req, res) => {
    // What an http server instrumentation does: the handler runs in the incoming request's span.
    serverSpan = tracer.startSpan('incoming', { kind: SpanKind.SERVER })
    context.with(trace.setSpan(context.active(), serverSpan), () => {
      handle = sseInstance.relay(res, { url: upstream.url })
    })
  })
  try {
    await downstream(srv.url).until((c) => c.ended)
    assert.equal(await handle.done, 'end')
    serverSpan.end()
    const spans = exporter.getFinishedSpans()
    const relay = spans.find((s) => s.name === 'native-sse relay')
    const request = spans.find((s) => s.name === 'POST')
    assert.ok(relay && request, spans.map((s) => s.name).join())
    const parentOf = (s) => s.parentSpanContext?.spanId ?? s.parentSpanId
    assert.equal(parentOf(relay), serverSpan.spanContext().spanId)
    assert.equal(parentOf(request), relay.spanContext().spanId)
    assert.equal(relay.spanContext().traceId, serverSpan.spanContext().traceId)
    assert.equal(relay.attributes['sse.end'], 'end')
    assert.equal(request.attributes['sse.events'], 2)
  } finally {
    await srv.close()
    await upstream.close()
  }
})

test('after uninstrument() no span is made', async () => {
  exporter.reset()
  const upstream = await startServer((req, res) => sse(res, BODY))
  const stop = instrument({ tracer })
  const sseInstance = new SSEClient().create()
  try {
    assert.equal(await sseInstance.post({ url: upstream.url }).done, 'end')
    // Two instrumentations: two spans; the check below can fail.
    assert.equal(exporter.getFinishedSpans().length, 2)
    stop()
    exporter.reset()
    assert.equal(await sseInstance.post({ url: upstream.url }).done, 'end')
    assert.equal(exporter.getFinishedSpans().length, 1)
  } finally {
    await upstream.close()
  }
})
