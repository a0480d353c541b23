// A request that nobody reads events from (no onMessage, not a stream or a relay) gets no per-event
// records: its events are not copied into JS strings, yet `done`, `final`, `lastEventId` and the
// callbacks it has still work. What reaches JS is observed at the record decoder, which the binding
// loader takes from lib/internal/records.js: wrapped here before the module loads.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { startServer, sse } from '../helpers/server.mjs'

const require = createRequire(import.meta.url)
const records = require('../../lib/internal/records.js')
const { createDecoder } = records
let delivered = 0
records.createDecoder = (kinds) => {
  const deliver = createDecoder(kinds)
  return (texts, words, metaLength) => {
    for (const text of texts) delivered += text.length
    return deliver(texts, words, metaLength)
  }
}
const { SSEClient } = await import('../../index.mjs')

const PAYLOAD = 'x'.repeat(100)
const CHUNK = (content) => JSON.stringify({ choices: [{ index: 0, delta: { content }, finish_reason: null }] })

/** 1,000 events of 100+ characters each; ids on every 100th; then the end. */
function manyEvents() {
  let text = ''
  for (let i = 0; i < 1000; i++) text += `${i % 100 === 99 ? `id: ${i}\n` : ''}data: ${PAYLOAD}\n\n`
  return text
}

test('a request without onMessage gets no event data on the JS thread, and its lastEventId', async () => {
  const srv = await startServer((req, res) => sse(res, manyEvents()))
  try {
    const sse = new SSEClient().create()
    const before = delivered
    const req = sse.post({ url: srv.url })
    assert.equal(await req.done, 'end')
    assert.equal(req.lastEventId, '999')
    // The 100 KB of data stay native; the open record, ten ids and the end are a few hundred bytes.
    assert.ok(delivered - before < 2000, `${delivered - before} characters reached JS`)
  } finally {
    await srv.close()
  }
})

test('accumulate without onMessage still resolves final, and onOpen and onClose run', async () => {
  let text = ''
  for (let i = 0; i < 500; i++) text += `data: ${CHUNK(`${i % 10}`)}\n\n`
  text += 'data: [DONE]\n\n'
  const srv = await startServer((req, res) => sse(res, text))
  try {
    const sse = new SSEClient().create()
    const seen = []
    const before = delivered
    const req = sse.post({
      url: srv.url,
      accumulate: 'openai-chat',
      doneData: '[DONE]',
      onOpen: () => seen.push('open'),
      onClose: () => seen.push('close'),
    })
    assert.equal(await req.done, 'done')
    const final = await req.final
    assert.equal(final.choices[0].message.content, '0123456789'.repeat(50))
    assert.deepEqual(seen, ['open', 'close'])
    // The final message is delivered once; the 500 chunks (about 40 KB) are not.
    assert.ok(delivered - before < 5000, `${delivered - before} characters reached JS`)
  } finally {
    await srv.close()
  }
})

test('with onMessage, or through stream(), every event is still delivered', async () => {
  const srv = await startServer((req, res) => sse(res, manyEvents()))
  try {
    const sse = new SSEClient().create()
    let count = 0
    await sse.post({ url: srv.url, onMessage: () => count++ }).done
    assert.equal(count, 1000)
    let streamed = 0
    let last
    for await (const msg of sse.stream({ url: srv.url })) {
      streamed++
      last = msg
    }
    assert.equal(streamed, 1000)
    assert.equal(last.id, '999')
  } finally {
    await srv.close()
  }
})
