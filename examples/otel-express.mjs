// OpenTelemetry around an Express relay: `instrument()` from native-sse/otel turns every relay and its
// upstream request into spans, children of the incoming request's span. In production the SDK
// (@opentelemetry/sdk-node) and its http instrumentation make the incoming request's span and export
// to your collector; here, to run without either, a middleware stands in for the http
// instrumentation and the spans are kept in memory (printed when run directly).
//
//   node examples/otel-express.mjs   (with the embedded OpenAI-compatible server; 127.0.0.1:3000)
import express from 'express'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { context, trace, SpanKind } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { instrument } from 'native-sse/otel'
import { SSEClient } from 'native-sse'

/**
 * Starts the relay on 127.0.0.1 in front of `upstreamUrl` (ending in /v1/); resolves with
 * { url, spans(), close() }: `spans()` are the finished spans so far.
 */
export async function start({ upstreamUrl, port = 0, apiKey = 'demo-key' }) {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
  // The one line a user adds (with the SDK set up, `instrument()` uses the global tracer provider).
  const uninstrument = instrument({ tracerProvider: provider })

  const sse = new SSEClient().create()
  const url = `${upstreamUrl}chat/completions`
  const headers = { authorization: `Bearer ${apiKey}` }
  const tracer = provider.getTracer('example-http-server')

  const app = express()
  // What @opentelemetry/instrumentation-http does: each incoming request runs in its SERVER span.
  app.use((req, res, next) => {
    const span = tracer.startSpan(`${req.method} ${req.path}`, { kind: SpanKind.SERVER })
    res.on('close', () => span.end())
    context.with(trace.setSpan(context.active(), span), next)
  })
  app.use(express.json())
  app.post('/chat', (req, res) => sse.relay(res, { url, body: req.body, headers, doneData: '[DONE]' }))

  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    spans: () => exporter.getFinishedSpans(),
    async close() {
      sse.abortAll()
      uninstrument()
      context.disable()
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startOpenAIServer } = await import('./openai-server.mjs')
  const upstream = await startOpenAIServer({ tokenDelayMs: 40 })
  const relay = await start({ upstreamUrl: upstream.url, port: Number(process.env.PORT ?? 3000) })
  console.log(`Express relay with OpenTelemetry on ${relay.url} (upstream ${upstream.url}); POST /chat`)
  const res = await fetch(`${relay.url}chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'demo-1', stream: true, messages: [{ role: 'user', content: 'hi' }] }),
  })
  await res.text()
  // The server span ends when the response closes, just after the body.
  await new Promise((resolve) => setImmediate(resolve))
  for (const span of relay.spans()) {
    console.log(
      span.name,
      span.kind,
      span.spanContext().spanId,
      'parent',
      span.parentSpanContext?.spanId,
      span.attributes,
    )
  }
  await relay.close()
  await upstream.close()
}
