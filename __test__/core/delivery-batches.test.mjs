// Batches of every size reach JS whole: the binding writes each delivery's record words into one
// reusable array, which grows for a large batch and shrinks back after it. Here the JS thread is
// held (on a barrier: the native counters reach the burst's size) while a 12,000-event burst is
// read, so that the burst arrives in one delivery; small deliveries follow, then a second burst.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { deliveries } from '../helpers/deliveries.mjs'
import { startServer } from '../helpers/server.mjs'

const BURST = 12_000

/** Event `n` of the stream: every field varies with n, so that a word read from a stale batch shows. */
const event = (n) => `id: ${n}\nevent: e${n % 7}\ndata: ${n}${n % 3 === 0 ? '\ndata: é' : ''}\n\n`
const expected = (n) => ({ data: `${n}${n % 3 === 0 ? '\né' : ''}`, event: `e${n % 7}`, id: String(n) })

/** Spins until the client's native counters have seen `events` events (they count without JS). */
function holdUntil(client, events) {
  const deadline = Date.now() + 20_000
  while (client.stats().events < events) {
    if (Date.now() > deadline) throw new Error(`the native side read ${client.stats().events} of ${events} events`)
  }
}

test('a burst delivered in one batch, small batches after it, and a second burst all arrive intact', async () => {
  const steps = []
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (const step of steps) {
      const [from, to, written] = await step
      let text = ''
      for (let n = from; n < to; n++) text += event(n)
      // Called once the text is handed to the socket (after Node's uncork on the next tick).
      res.write(text, () => written())
    }
    res.end()
  })
  // The server writes [from, to) at each step when the test says so; `write` resolves once it did.
  const tell = []
  for (let k = 0; k < 5; k++) steps.push(new Promise((resolve) => tell.push(resolve)))
  const write = (k, from, to) => new Promise((written) => tell[k]([from, to, written]))
  const client = new SSEClient()
  const got = []
  const batches = deliveries()
  let waiting = null
  const req = client.create().post({
    url: srv.url,
    onMessage: ({ data, event, id }) => {
      got.push({ data, event, id })
      batches.add(id)
      if (waiting !== null && got.length >= waiting.count) waiting.resolve()
    },
  })
  const received = (count) =>
    new Promise((resolve) => {
      waiting = { count, resolve }
      if (got.length >= count) resolve()
    })
  try {
    // The burst is in the socket once written; no delivery can run before this thread lets it, so
    // holding here until the native side has read it all makes the burst one delivery.
    await write(0, 0, BURST)
    holdUntil(client, BURST)
    await received(BURST)
    await write(1, BURST, BURST + 1)
    await received(BURST + 1)
    await write(2, BURST + 1, BURST + 2)
    await received(BURST + 2)
    await write(3, BURST + 2, 2 * BURST + 2)
    holdUntil(client, 2 * BURST + 2)
    await received(2 * BURST + 2)
    await write(4, 2 * BURST + 2, 2 * BURST + 3)
    assert.equal(await req.done, 'end')
    const total = 2 * BURST + 3
    assert.equal(got.length, total)
    for (let n = 0; n < total; n++) assert.deepEqual(got[n], expected(n), `event ${n}`)
    // The bursts came in few deliveries (the largest far above the array's first size), the single
    // events each in one of their own.
    const largest = Math.max(...batches.groups.map((g) => g.length))
    assert.ok(largest > 10_000, `largest delivery ${largest} events`)
    assert.ok(batches.groups.some((g) => g.length === 1 && g[0] === String(BURST)))
  } finally {
    req.abort()
    await srv.close()
  }
})
