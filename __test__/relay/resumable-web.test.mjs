// The web form of resumable relays, in process on the in-memory store: producing with
// `sse.stream({ ..., resumable: { id } }).toResponse()` (Next.js App Router, Hono, Bun, Deno) and
// resuming with `await client.resume({ id, lastEventId })`.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startUpstream } from '../helpers/resumable.mjs'
import { parseEventStream } from '../helpers/event-stream.mjs'

const tokens = (from, to) => Array.from({ length: to - from }, (_, i) => `t${from + i}`)

// What toResponse() wrote, as the browser parses it (ids are in every event, so the id in force is
// the event's own).
const parse = (text) => parseEventStream(text)

/** Every message of an SseStream, its terminal event included. */
async function collect(stream) {
  const messages = []
  for await (const msg of stream) messages.push(msg)
  return messages
}

async function setup(t, upstreamOptions) {
  const upstream = await startUpstream(upstreamOptions)
  const client = new SSEClient()
  t.after(async () => {
    await client.close()
    await upstream.close()
  })
  return { upstream, client, sse: client.create() }
}

test('stream({ resumable }).toResponse() writes each event with its log id and ends with the end event', async (t) => {
  const { upstream, sse } = await setup(t, { count: 6, gapMs: 2 })
  const response = sse.stream({ url: upstream.url, resumable: { id: 'web-ids' } }).toResponse()
  assert.equal(response.status, 200)
  assert.equal(response.headers.get('content-type'), 'text/event-stream')
  const events = parse(await response.text())
  assert.deepEqual(
    events.map((e) => e.data),
    [...tokens(0, 6), ''],
  )
  assert.equal(events.at(-1).event, 'end')
  // Every event carries its own log id (<ms>-<seq>), strictly rising.
  for (const [i, event] of events.entries()) {
    assert.match(event.id, /^\d+-\d+$/)
    if (i > 0) {
      const [ms, seq] = event.id.split('-').map(BigInt)
      const [pms, pseq] = events[i - 1].id.split('-').map(BigInt)
      assert.ok(ms > pms || (ms === pms && seq > pseq), `${events[i - 1].id} then ${event.id}`)
    }
  }
})

test('cancelling the Response body (the consumer leaving) lets the generation run to its end', async (t) => {
  const { upstream, client, sse } = await setup(t, { count: 20, gapMs: 10 })
  let upstreamEnded = false
  upstream.ended.then(() => (upstreamEnded = true))
  const response = sse.stream({ url: upstream.url, resumable: { id: 'web-cancel' } }).toResponse()
  const reader = response.body.getReader()
  const first = await reader.read()
  assert.match(new TextDecoder().decode(first.value), /data: t0\n/)
  assert.equal(upstreamEnded, false, 'the upstream ended before the consumer left: nothing is tested')
  await reader.cancel()
  // The upstream runs to its end, and the whole answer is in the log.
  await upstream.ended
  const replay = await client.resume({ id: 'web-cancel' })
  assert.ok(replay !== null)
  const messages = await collect(replay)
  assert.deepEqual(
    messages.map((m) => m.data),
    [...tokens(0, 20), ''],
  )
  assert.equal(messages.at(-1).event, 'end')
  assert.equal(upstream.requests.length, 1)
})

test('resume({ id }) of an unknown generation resolves with null', async (t) => {
  const { client } = await setup(t, { count: 1 })
  assert.equal(await client.resume({ id: 'never-started' }), null)
})

test('resume({ id, lastEventId }) replays exactly the events after that id, then the end event', async (t) => {
  const { upstream, client, sse } = await setup(t, { count: 8, gapMs: 2 })
  const live = await collect(sse.stream({ url: upstream.url, resumable: { id: 'web-rest' } }))
  assert.equal(live.length, 9)
  for (const k of [1, 4, 8]) {
    const rest = await collect(await client.resume({ id: 'web-rest', lastEventId: live[k - 1].id }))
    assert.deepEqual(rest, live.slice(k), `after event ${k}`)
  }
  // After the terminal event nothing is left.
  assert.equal(await client.resume({ id: 'web-rest', lastEventId: live.at(-1).id }), null)
  const whole = await client.resume({ id: 'web-rest' })
  assert.deepEqual(await collect(whole), live)
})

test("await stream.ready rejects with the store's error before any Response exists, so the handler can answer 503", async (t) => {
  const { client, upstream } = await setup(t, { count: 3, gapMs: 1 })
  const sse = client.create()
  const id = `ready-${Date.now()}`
  const first = sse.stream({ url: upstream.url, resumable: { id } })
  await first.ready
  await collect(first)
  const again = sse.stream({ url: upstream.url, resumable: { id } })
  await assert.rejects(again.ready, { code: 'GENERATION_EXISTS' })
  assert.equal(upstream.requests.length, 1)
})

test('resume({ id, lastEventId: "" }) (an empty Last-Event-ID header) replays from the start', async (t) => {
  const { client, upstream } = await setup(t, { count: 3, gapMs: 1 })
  const sse = client.create()
  const id = `empty-id-${Date.now()}`
  await collect(sse.stream({ url: upstream.url, resumable: { id } }))
  const stream = await client.resume({ id, lastEventId: '' })
  assert.deepEqual(
    (await collect(stream)).map((m) => m.data),
    [...tokens(0, 3), ''],
  )
})
