// encodeEvent / encodeComment / createEncoder: the text they write, and a property test that what
// they write reads back identically through a WHATWG parser (eventsource-parser), however it is cut.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { encodeEvent, encodeComment } from '../../index.mjs'
import { parseEventStream } from '../helpers/event-stream.mjs'
import { rng } from '../helpers/random.mjs'

const { createEncoder } = createRequire(import.meta.url)('../../lib/encode.js')

test('a one-line message is a data field and a blank line', () => {
  assert.equal(encodeEvent({ data: 'hello' }), 'data: hello\n\n')
})

test('CRLF, CR and LF inside data each start a new data field', () => {
  assert.equal(encodeEvent({ data: 'a\r\nb\rc\nd' }), 'data: a\ndata: b\ndata: c\ndata: d\n\n')
  assert.equal(encodeEvent({ data: '\n' }), 'data: \ndata: \n\n')
  assert.equal(encodeEvent({ data: 'x\r\n' }), 'data: x\ndata: \n\n')
  assert.deepEqual(parseEventStream(encodeEvent({ data: 'a\r\nb\rc\nd' })), [
    { data: 'a\nb\nc\nd', event: 'message', id: '' },
  ])
})

test('a leading space in a data line survives (one space always follows the colon)', () => {
  assert.equal(encodeEvent({ data: ' x' }), 'data:  x\n\n')
  assert.equal(parseEventStream(encodeEvent({ data: ' x\n  y' }))[0].data, ' x\n  y')
})

test('event, id and retry fields come before the data; "message" is the default type and left out', () => {
  assert.equal(
    encodeEvent({ data: 'd', event: 'delta', id: '7', retry: 2500 }),
    'event: delta\nid: 7\nretry: 2500\ndata: d\n\n',
  )
  assert.equal(encodeEvent({ data: 'd', event: 'message' }), 'data: d\n\n')
  assert.equal(encodeEvent({ data: 'd', id: '' }), 'id:\ndata: d\n\n')
})

test('ids with CR, LF or NUL and event names with CR or LF are refused with a TypeError', () => {
  for (const id of ['a\nb', 'a\rb', 'a\0b']) {
    assert.throws(() => encodeEvent({ data: 'x', id }), {
      name: 'TypeError',
      message: /id must not contain CR, LF or NUL/,
    })
  }
  assert.throws(() => encodeEvent({ data: 'x', event: 'a\nid: 1' }), {
    name: 'TypeError',
    message: /event must not contain/,
  })
  assert.throws(() => encodeEvent({ data: 1 }), { name: 'TypeError', message: /data must be a string, got number/ })
  assert.throws(() => encodeEvent({ data: 'x', retry: -1 }), {
    name: 'TypeError',
    message: /retry must be a non-negative integer/,
  })
  assert.throws(() => encodeEvent({ data: 'x', retry: 1.5 }), { name: 'TypeError' })
  assert.throws(() => encodeEvent(null), { name: 'TypeError', message: /must be an object, got null/ })
})

test('a comment is one colon line per line of text, then a blank line, and is not an event', () => {
  assert.equal(encodeComment(), ':\n\n')
  assert.equal(encodeComment('keep-alive'), ': keep-alive\n\n')
  assert.equal(encodeComment('a\r\nb'), ': a\n: b\n\n')
  assert.deepEqual(parseEventStream(encodeComment('a\nb') + encodeEvent({ data: 'x' }) + encodeComment()), [
    { data: 'x', event: 'message', id: '' },
  ])
})

test('createEncoder writes the id only when the id in force changes', () => {
  const encode = createEncoder()
  assert.equal(encode({ data: 'a', event: 'message', id: '' }), 'data: a\n\n')
  assert.equal(encode({ data: 'b', event: 'message', id: '1' }), 'id: 1\ndata: b\n\n')
  assert.equal(encode({ data: 'c', event: 'message', id: '1' }), 'data: c\n\n')
  assert.equal(encode({ data: 'd', event: 'message', id: '' }), 'id:\ndata: d\n\n')
  assert.equal(createEncoder('5')({ data: 'e', id: '5' }), 'data: e\n\n')
})

const PIECES = [
  'a',
  'token',
  ' ',
  '  ',
  ':',
  'data:',
  'id: 3',
  '\n',
  '\r',
  '\r\n',
  '\n\n',
  '\r\r',
  'é',
  '日本',
  '😀',
  '\u2028',
  '{"x":1}',
  '\t',
  'event',
  '\u00a0',
]
const NAMES = ['message', 'delta', 'error', 'done', 'ünïcode', 'with space', 'x:y']
const IDS = ['', '1', '42', 'abc-def', 'id with spaces', 'ü', '😀', ' lead']

function randomMessage(r) {
  let data = ''
  const n = Math.floor(r() * 8)
  for (let i = 0; i < n; i++) data += PIECES[Math.floor(r() * PIECES.length)]
  // An event with empty data is never dispatched (WHATWG): keep at least one character.
  if (data === '') data = 'x'
  const msg = { data }
  if (r() < 0.4) msg.event = NAMES[Math.floor(r() * NAMES.length)]
  if (r() < 0.4) msg.id = IDS[Math.floor(r() * IDS.length)]
  if (r() < 0.1) msg.retry = Math.floor(r() * 100000)
  return msg
}

/** What a WHATWG parser reports for `msgs`: lines joined with LF, "message" by default, id in force. */
function expected(msgs) {
  let lastId = ''
  return msgs.map((m) => {
    if (m.id !== undefined) lastId = m.id
    const out = { data: m.data.split(/\r\n|\r|\n/).join('\n'), event: m.event ?? 'message', id: lastId }
    if (m.retry !== undefined) out.retry = m.retry
    return out
  })
}

test('property: random messages read back identically through eventsource-parser, cut anywhere', () => {
  const seed = Number(process.env.ENCODE_SEED ?? 1)
  const r = rng(seed)
  for (let round = 0; round < 2000; round++) {
    const msgs = Array.from({ length: 1 + Math.floor(r() * 6) }, () => randomMessage(r))
    const viaEncodeEvent = msgs.map(encodeEvent).join('')
    const encode = createEncoder()
    // createEncoder takes stream messages: the id in force is on every message.
    const viaEncoder = expected(msgs)
      .map((m) => encode(m))
      .join('')
    const cuts = Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * viaEncodeEvent.length))
    const want = expected(msgs)
    assert.deepEqual(
      parseEventStream(viaEncodeEvent, cuts),
      want,
      `seed ${seed} round ${round}: ${JSON.stringify(viaEncodeEvent)}`,
    )
    assert.deepEqual(
      parseEventStream(viaEncoder, cuts),
      want,
      `seed ${seed} round ${round}: ${JSON.stringify(viaEncoder)}`,
    )
  }
})
