// The relay examples in each framework, run as they are written: Express (`sse.relay(res)`), Fastify
// (`sse.relay(reply.raw)`), Hono on @hono/node-server (`sse.stream(...).toResponse()`) and the Express
// relay with a transform (examples/relay/). Each against the embedded OpenAI-compatible server: the
// answer arrives as events, the browser leaving aborts the upstream, a failing upstream ends the
// response with `event: error`.
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startOpenAIServer } from '../../examples/openai-server.mjs'
import { start as startExpress } from '../../examples/relay-express.mjs'
import { start as startFastify } from '../../examples/relay-fastify.mjs'
import { start as startHono } from '../../examples/relay-hono.mjs'
import { startRelay as startTransformRelay } from '../../examples/relay/server.mjs'
import Fastify from 'fastify'
import { SSEClient } from '../../index.mjs'
import { startServer } from '../helpers/server.mjs'
import { downstream, signal } from '../helpers/relay.mjs'

const REPLY = 'one two three four five six seven eight nine ten'
const BODY = { model: 'demo-1', stream: true, messages: [{ role: 'user', content: 'count' }] }
const FULL = `You asked: "count". ${REPLY}`

/** The text of the answer from either form of event: an OpenAI chunk passed through, or `{ token }`. */
function answerOf(events) {
  return events
    .filter((e) => e.event === 'message')
    .map((e) => {
      const payload = JSON.parse(e.data)
      return payload.token ?? payload.choices?.[0]?.delta?.content ?? ''
    })
    .join('')
}

/** The upstream, with a record of how each of its responses closed. */
async function startUpstream(tokenDelayMs) {
  const upstream = await startOpenAIServer({ tokenDelayMs, reply: REPLY })
  upstream.responses = []
  upstream.server.on('request', (req, res) => {
    const entry = { closed: signal(), finished: null }
    upstream.responses.push(entry)
    res.on('close', () => {
      entry.finished = res.writableFinished
      entry.closed.resolve(entry.finished)
    })
  })
  return upstream
}

const relays = [
  ['Express: sse.relay(res)', startExpress],
  ['Fastify: sse.relay(reply.raw)', startFastify],
  ['Hono on @hono/node-server: sse.stream(...).toResponse()', startHono],
  ['Express with a transform (examples/relay)', startTransformRelay],
]

for (const [name, start] of relays) {
  describe(name, () => {
    test('the answer arrives as events with the event-stream headers, and the response ends', async () => {
      const upstream = await startUpstream(1)
      const relay = await start({ upstreamUrl: upstream.url })
      try {
        const down = downstream(`${relay.url}chat`, { body: BODY })
        const res = await down.response
        assert.equal(res.statusCode, 200)
        assert.match(res.headers['content-type'], /^text\/event-stream/)
        assert.equal(res.headers['cache-control'], 'no-cache')
        assert.equal(res.headers['x-accel-buffering'], 'no')
        await down.until((c) => c.ended)
        assert.equal(answerOf(down.events), FULL)
        assert.ok(!down.text.includes('[DONE]'), 'doneData was relayed')
        assert.ok(!down.events.some((e) => e.event === 'error'), down.text)
        assert.equal(await upstream.responses[0].closed.promise, true)
      } finally {
        await relay.close()
        await upstream.close()
      }
    })

    test('the browser leaving mid-answer aborts the upstream request', async () => {
      const upstream = await startUpstream(30)
      const relay = await start({ upstreamUrl: upstream.url })
      try {
        const down = downstream(`${relay.url}chat`, { body: BODY })
        await down.until((c) => answerOf(c.events).split(' ').length >= 3)
        down.close()
        assert.equal(await upstream.responses[0].closed.promise, false, 'the upstream response ran to its end')
      } finally {
        await relay.close()
        await upstream.close()
      }
    })

    test('a failing upstream ends the response with `event: error` (code and message)', async () => {
      const failing = await startServer((req, res) => {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end('{"error":{"message":"model overloaded"}}')
      })
      const relay = await start({ upstreamUrl: `${failing.base}/v1/` })
      try {
        const down = downstream(`${relay.url}chat`, { body: BODY })
        await down.until((c) => c.ended)
        const last = down.events.at(-1)
        assert.equal(last?.event, 'error', down.text)
        assert.equal(JSON.parse(last.data).code, 'HTTP_STATUS')
        assert.ok(!down.text.includes('demo-key'), 'the API key reached the browser')
      } finally {
        await relay.close()
        await failing.close()
      }
    })
  })
}

test('Fastify: the one-line form `(req, reply) => sse.relay(reply.raw, ...)` works too (no hijack, nothing logged)', async () => {
  const upstream = await startUpstream(1)
  const logged = []
  const app = Fastify({
    logger: { level: 'warn', stream: { write: (line) => logged.push(line) } },
  })
  const sse = new SSEClient().create()
  const url = `${upstream.url}chat/completions`
  app.post('/chat', (req, reply) => sse.relay(reply.raw, { url, body: req.body, doneData: '[DONE]' }))
  const address = await app.listen({ port: 0, host: '127.0.0.1' })
  try {
    const down = downstream(`${address}/chat`, { body: BODY })
    await down.until((c) => c.ended)
    assert.equal(answerOf(down.events), FULL)
    assert.ok(!down.events.some((e) => e.event === 'error'), down.text)
    assert.deepEqual(logged, [])
  } finally {
    sse.abortAll()
    await app.close()
    await upstream.close()
  }
})
