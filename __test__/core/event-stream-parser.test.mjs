// The binding's EventStreamParser (the native parser fed from JS, used by the drop-ins for a
// custom fetch's body) through lib/compat/fetch-transport.js's record decoder: the core's stream
// fixtures give their expected events however the bytes are cut, ids and retry carry across
// reset(), and maxEventSize bounds an event.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { EventStreamParser } = require('../../lib/internal/binding.js')
const { RecordParser } = require('../../lib/compat/fetch-transport.js')

const fixtures = new URL('../../crates/sse-core/test-data/', import.meta.url)
const always = () => true

/** The events of `chunks` fed in order to one parser, as the drop-ins receive them. */
function parse(chunks, parser = new RecordParser()) {
  const events = []
  for (const chunk of chunks) parser.feed(chunk, (msg) => events.push(msg), always)
  return events
}

for (const name of ['mixed', 'utf8', 'openai']) {
  test(`the ${name}.sse fixture gives its expected events, whole, byte by byte, and cut at every point`, () => {
    const bytes = new Uint8Array(readFileSync(new URL(`${name}.sse`, fixtures)))
    const expected = JSON.parse(readFileSync(new URL(`${name}.json`, fixtures), 'utf8')).map(
      ({ data, event, id, retry }) => (retry === null ? { data, event, id } : { data, event, id, retry }),
    )
    assert.deepEqual(parse([bytes]), expected)
    assert.deepEqual(parse([...bytes].map((byte) => new Uint8Array([byte]))), expected)
    // Every two-chunk cut of a short fixture; a sample of them for a long one.
    const step = Math.max(1, Math.floor(bytes.length / 200))
    for (let cut = 0; cut <= bytes.length; cut += step) {
      assert.deepEqual(parse([bytes.subarray(0, cut), bytes.subarray(cut)]), expected, `cut at ${cut}`)
    }
  })
}

test('an id-only block changes the id of later events; lastEventId and retry carry across reset(), an unfinished event does not', () => {
  const encode = (text) => new TextEncoder().encode(text)
  const parser = new RecordParser()
  assert.deepEqual(parse([encode('data: a\n\nid: 7\n\nretry: 250\n\ndata: b\n\ndata: unfinished')], parser), [
    { data: 'a', event: 'message', id: '' },
    { data: 'b', event: 'message', id: '7' },
  ])
  assert.equal(parser.native.lastEventId, '7')
  assert.equal(parser.retry, 250)
  parser.reset()
  assert.deepEqual(parse([encode('\n\ndata: c\n\n')], parser), [{ data: 'c', event: 'message', id: '7' }])
  assert.equal(parser.native.lastEventId, '7')
  assert.equal(parser.retry, 250)
  assert.equal(
    new EventStreamParser().feed(encode('data: none yet'), new Uint32Array(8)),
    null,
    'nothing completed: null',
  )
})

test('an event over maxEventSize throws EVENT_TOO_LARGE naming the limit, after the events before it', () => {
  const parser = new RecordParser(16)
  const events = []
  assert.throws(
    () =>
      parser.feed(
        new TextEncoder().encode('data: ok\n\ndata: 0123456789abcdef\n\n'),
        (msg) => events.push(msg),
        always,
      ),
    (err) => err.code === 'EVENT_TOO_LARGE' && /maxEventSize \(16 bytes\)/.test(err.message),
  )
  assert.deepEqual(events, [{ data: 'ok', event: 'message', id: '' }])
  assert.equal(new EventStreamParser().maxEventSize, 16 * 1024 * 1024)
})

test('maxEventSize is validated: not a whole number >= 1, or over 511 MiB, throws INVALID_OPTIONS', () => {
  for (const bad of [0, 1.5, -1, 2 ** 40]) {
    assert.throws(
      () => new EventStreamParser(bad),
      (err) => err.code === 'INVALID_OPTIONS' && /maxEventSize/.test(err.message),
      String(bad),
    )
  }
})

test('feed() takes a Buffer and stops delivering once the attempt is no longer live', () => {
  const parser = new RecordParser()
  const events = []
  let live = true
  parser.feed(
    Buffer.from('data: 1\n\ndata: 2\n\n'),
    (msg) => {
      events.push(msg.data)
      live = false
    },
    () => live,
  )
  assert.deepEqual(events, ['1'])
})

test('records that outgrow the meta array arrive whole, and the array shrinks back after the burst', () => {
  const encode = (text) => new TextEncoder().encode(text)
  const block = (from, count) => {
    let text = ''
    for (let n = from; n < from + count; n++) text += `id: ${n}\nevent: e${n % 5}\ndata: ${n}\n\n`
    return encode(text)
  }
  const expected = (from, count) =>
    Array.from({ length: count }, (_, k) => ({ data: `${from + k}`, event: `e${(from + k) % 5}`, id: `${from + k}` }))
  const parser = new RecordParser()
  const small = parser.words.length
  assert.deepEqual(parse([block(0, 1000)], parser), expected(0, 1000))
  assert.ok(parser.words.length >= 7000, `grew to ${parser.words.length} words`)
  assert.deepEqual(parse([block(1000, 1)], parser), expected(1000, 1))
  assert.equal(parser.words.length, small, 'back to its first size')
  assert.deepEqual(parse([block(1001, 3), block(1004, 1000)], parser), expected(1001, 1003))
})

test('the native parser refuses an array too small for its words', () => {
  const native = new EventStreamParser()
  assert.throws(() => native.feed(new TextEncoder().encode('data: a\n\n'), new Uint32Array(0)), /at least one element/)
  assert.equal(native.feed(new TextEncoder().encode('data: a\n\n'), new Uint32Array(1)), 'a')
  assert.throws(() => native.takeMeta(new Uint32Array(4)), /must hold 8 elements/)
})
