// `select`: each event's data replaced natively by the value at a JSON Pointer, in post(),
// stream() and relay() (TEXT records), and checked against JSON.parse + a pointer lookup.
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, sse, closeSentinel } from '../helpers/server.mjs'
import { downstream, startHttp } from '../helpers/relay.mjs'
import { rng, pick } from '../helpers/random.mjs'
import { aiFixture, lookup } from '../helpers/ai.mjs'

after(closeSentinel)

const CONTENT = '/choices/0/delta/content'

async function serving(text) {
  return startServer((req, res) => sse(res, text))
}

async function post(sse, options) {
  const messages = []
  const req = sse.post({ ...options, onMessage: (msg) => messages.push(msg) })
  await req.done
  return messages.map((m) => m.data)
}

test('select gives each event the selected string, decoded; events without it keep their data', async () => {
  const srv = await serving(aiFixture('openai-chat-text.sse'))
  try {
    const sse = new SSEClient().create()
    const data = await post(sse, { url: srv.url, select: CONTENT })
    const raw = aiFixture('openai-chat-text.sse')
      .split('\n\n')
      .filter(Boolean)
      .map((block) => block.slice('data: '.length))
    assert.equal(data.length, 7)
    assert.deepEqual(data.slice(0, 4), ['', 'Hello', ', héllo "w"\n', '日本 😀'])
    // The finish chunk (an empty delta), the usage chunk and [DONE] stay observable as they were.
    assert.deepEqual(data.slice(4), raw.slice(4))
  } finally {
    await srv.close()
  }
})

test("selectMissing 'drop' delivers only the events that have the value", async () => {
  const srv = await serving(aiFixture('openai-chat-text.sse'))
  try {
    const sse = new SSEClient().create()
    const data = await post(sse, { url: srv.url, select: CONTENT, selectMissing: 'drop' })
    assert.deepEqual(data, ['', 'Hello', ', héllo "w"\n', '日本 😀'])
  } finally {
    await srv.close()
  }
})

test('a value that is not a string is delivered as its JSON text', async () => {
  const srv = await serving('data: {"usage": {"total_tokens" : 16}, "n": [1, 2.50]}\n\ndata: {"n":null}\n\n')
  try {
    const sse = new SSEClient().create()
    assert.deepEqual(await post(sse, { url: srv.url, select: '/usage' }), ['{"total_tokens" : 16}', '{"n":null}'])
    assert.deepEqual(await post(sse, { url: srv.url, select: '/n' }), ['[1, 2.50]', 'null'])
    assert.deepEqual(await post(sse, { url: srv.url, select: '/n/1' }), ['2.50', '{"n":null}'])
  } finally {
    await srv.close()
  }
})

test('select works in stream() and with doneData', async () => {
  const srv = await serving(aiFixture('openai-chat-text.sse'))
  try {
    const sse = new SSEClient().create()
    const got = []
    for await (const msg of sse.stream({ url: srv.url, select: CONTENT, selectMissing: 'drop', doneData: '[DONE]' })) {
      got.push(msg.data)
    }
    assert.equal(got.join(''), 'Hello, héllo "w"\n日本 😀')
  } finally {
    await srv.close()
  }
})

test('relay() applies select in its TEXT path: the browser gets the selected text as events', async () => {
  const upstream = await serving(aiFixture('anthropic-text.sse'))
  const sse = new SSEClient().create()
  const relaySrv = await startHttp((req, res) => {
    sse.relay(res, { url: upstream.url, select: '/delta/text', selectMissing: 'drop' })
  })
  try {
    const client = downstream(relaySrv.url)
    await client.until((c) => c.ended)
    assert.deepEqual(
      client.events.map((e) => [e.event, e.data]),
      [
        ['content_block_delta', 'Hello'],
        ['content_block_delta', ', héllo "w"\n日本 😀'],
      ],
    )
  } finally {
    await relaySrv.close()
    await upstream.close()
  }
})

test('a malformed pointer or selectMissing is INVALID_OPTIONS, thrown at once', () => {
  const sse = new SSEClient().create()
  const url = 'http://127.0.0.1:1/'
  for (const [options, message] of [
    [{ select: 'choices/0' }, /did you mean "\/choices\/0"/],
    [{ select: '/a~2' }, /"~" must be followed by 0 or 1/],
    [{ select: 7 }, /select must be a string or an object of strings, got number/],
    [{ select: '/a', selectMissing: 'skip' }, /selectMissing must be 'keep' or 'drop', got "skip"/],
  ]) {
    assert.throws(
      () => sse.post({ url, ...options }),
      (err) => err.code === 'INVALID_OPTIONS' && message.test(err.message),
    )
  }
})

// Generated documents: nesting, escapes, surrogate pairs, numbers, keys with ~ and /, arrays, huge
// strings; and malformed variants of them.
const KEYS = ['a', 'b', 'a/b', 'm~n', '~1', '', ' ', 'é', '日本', '😀', 'k"q', 'back\\slash', '0', '1', '-']
const STRINGS = ['', 'plain', 'é', '日本', '😀 pair', 'quote " and \\', 'nl\nline', 'tab\t', '\u0000\u001f', '~0~1/']

function value(r, depth) {
  const roll = r()
  if (depth > 4 || roll < 0.35) {
    const scalar = r()
    if (scalar < 0.4) return pick(r, STRINGS) + (r() < 0.05 ? 'x'.repeat(100_000) : '')
    if (scalar < 0.7) return pick(r, [0, -1, 1.5, 1e21, -2.5e-7, 123456789012, 0.1])
    return pick(r, [true, false, null])
  }
  if (roll < 0.65) return Array.from({ length: Math.floor(r() * 4) }, () => value(r, depth + 1))
  const obj = {}
  for (let i = Math.floor(r() * 5); i > 0; i--) obj[pick(r, KEYS)] = value(r, depth + 1)
  return obj
}

/** A pointer that often exists in `doc`: a walk down it, with a wrong turn now and then. */
function pointerInto(r, doc) {
  let pointer = ''
  let at = doc
  while (at !== null && typeof at === 'object' && r() < 0.8) {
    const keys = Array.isArray(at) ? at.map((_, i) => String(i)) : Object.keys(at)
    const key = keys.length === 0 || r() < 0.1 ? pick(r, [...KEYS, '5', '01', '-']) : pick(r, keys)
    pointer += `/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`
    at = Array.isArray(at) ? at[Number(key)] : at?.[key]
  }
  return pointer
}

/** Escapes some characters as \u escapes (the same document, spelled differently). */
function escapeSome(r, json) {
  return json.replace(/[a-z\u00e9\u65e5]/g, (c) =>
    r() < 0.2 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c,
  )
}

function malformed(r, json) {
  const at = Math.floor(r() * (json.length + 1))
  return pick(r, [
    () => json.slice(0, at),
    () => `${json.slice(0, at)}${pick(r, [',', '}', ']', '"', '\\x', 'tru', '{', ' 1'])}${json.slice(at)}`,
    () => `${json},`,
    () => `${json} ${json}`,
    () => json.replace(/:/, ''),
  ])()
}

test('select agrees with JSON.parse + a pointer lookup on generated and malformed JSON', async () => {
  const FIXED = ['/a~1b/0/m~0n', '/~01/1', '/日本/01', '/', '']
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    const r = rng(seed)
    const pointer = seed <= FIXED.length ? FIXED[seed - 1] : pointerInto(r, value(r, 0))
    const docs = []
    for (let i = 0; i < 300; i++) {
      // Documents shaped around the pointer's path, so that it is found often.
      const doc = value(r, 0)
      let json = r() < 0.3 ? escapeSome(r, JSON.stringify(doc)) : JSON.stringify(doc, null, r() < 0.5 ? 0 : 1)
      if (r() < 0.25) json = malformed(r, json)
      // One line per event: JSON text holds no raw newline, a malformed edit none either.
      // A cut between the halves of a surrogate pair would not survive UTF-8: the server would send U+FFFD.
      json = json.replaceAll('\n', ' ').toWellFormed()
      docs.push(json)
    }
    // Plus documents that certainly contain the pointer.
    for (let i = 0; i < 100; i++) {
      let target = value(r, 3)
      const tokens = pointer === '' ? [] : pointer.slice(1).split('/')
      for (const raw of tokens.toReversed()) {
        const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
        if (/^(0|[1-9][0-9]*)$/.test(key) && r() < 0.7) {
          const arr = Array.from({ length: Number(key) + 1 }, () => value(r, 4))
          arr[Number(key)] = target
          target = arr
        } else {
          target = { [pick(r, KEYS)]: value(r, 4), [key]: target }
        }
      }
      docs.push(JSON.stringify(target))
    }
    const srv = await serving(docs.map((d) => `data: ${d}\n\n`).join(''))
    try {
      const sse = new SSEClient().create()
      const got = await post(sse, { url: srv.url, select: pointer })
      assert.equal(got.length, docs.length)
      let found = 0
      for (const [i, json] of docs.entries()) {
        let want
        try {
          want = lookup(JSON.parse(json), pointer)
        } catch {
          want = undefined
        }
        const context = `seed ${seed}, pointer ${JSON.stringify(pointer)}, doc ${i}: ${json.slice(0, 300)}`
        if (want === undefined) {
          assert.equal(got[i], json, context)
        } else if (typeof want === 'string') {
          found++
          assert.equal(got[i], want, context)
        } else {
          found++
          assert.deepEqual(JSON.parse(got[i]), want, context)
        }
      }
      // '/日本/01' names a member of an object only: the documents built around it hold arrays too.
      assert.ok(found >= 50, `seed ${seed}: only ${found} documents had the pointer`)
    } finally {
      await srv.close()
    }
  }
})

test('a selected string holding a lone surrogate escape is not selected (a Rust string cannot hold it)', async () => {
  const srv = await serving('data: {"s":"\\ud800"}\n\ndata: {"s":"\\ud83d\\ude00"}\n\n')
  try {
    const sse = new SSEClient().create()
    assert.deepEqual(await post(sse, { url: srv.url, select: '/s' }), ['{"s":"\\ud800"}', '😀'])
  } finally {
    await srv.close()
  }
})
