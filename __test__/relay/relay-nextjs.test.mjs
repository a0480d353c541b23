// The Next.js App Router example (examples/nextjs: `sse.stream(...).toResponse()` in a route handler),
// built with `next build` and run with `next start`: the answer arrives as events, the browser leaving
// aborts the upstream, a failing upstream ends the response with `event: error`.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { startServer, delay } from '../helpers/server.mjs'
import { downstream, signal } from '../helpers/relay.mjs'
import { nextSkip, startNext } from '../helpers/nextjs.mjs'

const TOKENS = ['one', ' two', ' three', ' four', ' five', ' six', ' seven', ' eight']
const body = (content) => ({ model: 'demo-1', stream: true, messages: [{ role: 'user', content }] })

describe('the Next.js route handler example (next start)', { skip: nextSkip, timeout: 60_000 }, () => {
  let upstream
  let next
  const closes = []

  before(async () => {
    // An OpenAI-style upstream: 'fail' gets a 500, 'slow' 50 ms a token, anything else 1 ms.
    upstream = await startServer(async (req, res, raw) => {
      const question = JSON.parse(raw.toString()).messages.at(-1).content
      if (question === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' })
        return res.end('{"error":"overloaded"}')
      }
      const closed = signal()
      closes.push(closed.promise)
      res.on('close', () => closed.resolve(res.writableFinished))
      res.writeHead(200, { 'content-type': 'text/event-stream' })
      for (const token of TOKENS) {
        if (res.destroyed) return
        res.write(`data: ${JSON.stringify({ choices: [{ delta: { content: token } }] })}\n\n`)
        await delay(question === 'slow' ? 50 : 1)
      }
      res.end('data: [DONE]\n\n')
    })
    next = await startNext({ upstreamUrl: `${upstream.base}/v1/` })
  })

  after(async () => {
    await next?.close()
    await upstream?.close()
  })

  const answerOf = (events) => events.map((e) => JSON.parse(e.data).choices?.[0]?.delta?.content ?? '').join('')

  test('the answer arrives as events with the event-stream headers', async () => {
    const down = downstream(`${next.url}chat`, { body: body('count') })
    const res = await down.response
    assert.equal(res.statusCode, 200)
    assert.match(res.headers['content-type'], /^text\/event-stream/)
    assert.equal(res.headers['cache-control'], 'no-cache')
    assert.equal(res.headers['x-accel-buffering'], 'no')
    await down.until((c) => c.ended)
    assert.equal(answerOf(down.events), TOKENS.join(''))
    assert.equal(await closes.at(-1), true)
  })

  test('the browser leaving mid-answer aborts the upstream request', async () => {
    const before = closes.length
    const down = downstream(`${next.url}chat`, { body: body('slow') })
    await down.until((c) => c.events.length >= 2)
    down.close()
    assert.equal(closes.length, before + 1)
    assert.equal(await closes.at(-1), false, 'the upstream response ran to its end')
  })

  test('a failing upstream ends the response with `event: error`', async () => {
    const down = downstream(`${next.url}chat`, { body: body('fail') })
    await down.until((c) => c.ended)
    assert.equal(down.events.length, 1, down.text)
    assert.equal(down.events[0].event, 'error')
    assert.equal(JSON.parse(down.events[0].data).code, 'HTTP_STATUS')
  })
})
