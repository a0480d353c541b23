// examples/otel-express.mjs: an Express relay instrumented with native-sse/otel gives, per POST /chat,
// the incoming request's SERVER span, the relay's span under it and the upstream request's CLIENT span
// under that, in one trace.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SpanKind } from '@opentelemetry/api'
import { start } from '../../examples/otel-express.mjs'
import { startOpenAIServer } from '../../examples/openai-server.mjs'
import { downstream } from '../helpers/relay.mjs'

test('the Express example traces a relay under the incoming request, its upstream request under the relay', async () => {
  const upstream = await startOpenAIServer({ tokenDelayMs: 1, reply: 'one two three' })
  const relay = await start({ upstreamUrl: upstream.url })
  try {
    const body = { model: 'demo-1', stream: true, messages: [{ role: 'user', content: 'count' }] }
    await downstream(`${relay.url}chat`, { body }).until((c) => c.ended)
    // The server span ends on the response's 'close', after the body: wait for the three spans.
    while (relay.spans().length < 3) await new Promise((resolve) => setImmediate(resolve))
    const spans = relay.spans()
    const server = spans.find((s) => s.kind === SpanKind.SERVER)
    const relaySpan = spans.find((s) => s.name === 'native-sse relay')
    const client = spans.find((s) => s.kind === SpanKind.CLIENT)
    assert.ok(server && relaySpan && client, spans.map((s) => s.name).join())
    assert.equal(relaySpan.parentSpanContext?.spanId, server.spanContext().spanId)
    assert.equal(client.parentSpanContext?.spanId, relaySpan.spanContext().spanId)
    assert.equal(new Set(spans.map((s) => s.spanContext().traceId)).size, 1)
    assert.equal(client.attributes['url.path'], '/v1/chat/completions')
    assert.equal(client.attributes['sse.end'], 'done')
    assert.ok(client.attributes['sse.events'] > 3)
    assert.equal(relaySpan.attributes['sse.end'], 'done')
  } finally {
    await relay.close()
    await upstream.close()
  }
})
