// `select` as an object of named pointers: each event yields one message per name whose pointer
// finds a value (in the object's order), `event` being the name; in relay() the name is the
// `event:` field of the TEXT path. Checked against JSON.parse + a pointer lookup per name.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, sse as respond } from '../helpers/server.mjs'
import { downstream, startHttp } from '../helpers/relay.mjs'
import { rng, pick } from '../helpers/random.mjs'
import { aiFixture, lookup } from '../helpers/ai.mjs'

const FIELDS = { content: '/choices/0/delta/content', tools: '/choices/0/delta/tool_calls' }

async function post(sse, options) {
  const messages = []
  const req = sse.post({ ...options, onMessage: (msg) => messages.push([msg.event, msg.data]) })
  await req.done
  return messages
}

test('named pointers give one message per name found, the name as its event', async () => {
  const chunk = (delta) => `data: ${JSON.stringify({ choices: [{ index: 0, delta }] })}\n\n`
  const call = [{ index: 0, id: 'c', function: { name: 'f', arguments: '{"q":' } }]
  const srv = await startServer((req, res) =>
    respond(
      res,
      chunk({ content: 'Hé "1"\n' }) +
        chunk({ tool_calls: call }) +
        // Both in one event: two messages, in the order of the select object.
        chunk({ tool_calls: call, content: 'both' }) +
        chunk({}) +
        'data: [DONE]\n\n',
    ),
  )
  try {
    const sse = new SSEClient().create()
    const calls = JSON.stringify(call)
    assert.deepEqual(await post(sse, { url: srv.url, select: FIELDS }), [
      ['content', 'Hé "1"\n'],
      ['tools', calls],
      ['content', 'both'],
      ['tools', calls],
      // Found by no pointer: kept as it came (selectMissing 'keep').
      ['message', chunk({}).slice(6, -2)],
      ['message', '[DONE]'],
    ])
    assert.deepEqual(await post(sse, { url: srv.url, select: FIELDS, selectMissing: 'drop' }), [
      ['content', 'Hé "1"\n'],
      ['tools', calls],
      ['content', 'both'],
      ['tools', calls],
    ])
  } finally {
    await srv.close()
  }
})

test('named pointers work in stream() and in relay(), whose events are named by them', async () => {
  const upstream = await startServer((req, res) => respond(res, aiFixture('anthropic-tools.sse')))
  const fields = { text: '/delta/text', json: '/delta/partial_json' }
  const sse = new SSEClient().create()
  const relaySrv = await startHttp((req, res) => {
    sse.relay(res, { url: upstream.url, select: fields, selectMissing: 'drop' })
  })
  try {
    const want = []
    for (const block of aiFixture('anthropic-tools.sse').split('\n\n')) {
      const line = block.split('\n').find((l) => l.startsWith('data: '))
      if (line === undefined) continue
      const doc = JSON.parse(line.slice(6))
      for (const [name, pointer] of Object.entries(fields)) {
        const value = lookup(doc, pointer)
        if (value !== undefined) want.push([name, value])
      }
    }
    assert.ok(want.some(([name]) => name === 'text') && want.some(([name]) => name === 'json'))
    const streamed = []
    for await (const msg of sse.stream({ url: upstream.url, select: fields, selectMissing: 'drop' })) {
      streamed.push([msg.event, msg.data])
    }
    assert.deepEqual(streamed, want)
    const client = downstream(relaySrv.url)
    await client.until((c) => c.ended)
    assert.deepEqual(
      client.events.map((e) => [e.event, e.data]),
      want,
    )
  } finally {
    await relaySrv.close()
    await upstream.close()
  }
})

test('a select object with no names, a name that cannot be an event name or a bad pointer is INVALID_OPTIONS', () => {
  const sse = new SSEClient().create()
  const url = 'http://127.0.0.1:1/'
  for (const [select, message] of [
    [{}, /select names no pointer/],
    [{ 'a\nb': '/x' }, /select name "a\\nb" cannot be an event name/],
    [{ '': '/x' }, /select name "" cannot be an event name/],
    [{ a: 7 }, /select\.a must be a string, got number/],
    [{ a: 'x' }, /did you mean "\/x"/],
    [[], /select must be a string or an object of strings, got array/],
    [null, null],
  ]) {
    if (message === null) {
      // null is "not set", as for every option.
      sse.post({ url, select }).abort()
      continue
    }
    assert.throws(
      () => sse.post({ url, select }),
      (err) => err.code === 'INVALID_OPTIONS' && message.test(err.message),
    )
  }
})

// OpenAI-shaped chunks with and without content, tool calls and refusal, escapes, other values, and
// malformed variants: every name's value must be what JSON.parse + a lookup finds.
test('named pointers agree with JSON.parse + a lookup per name on generated and malformed chunks', async () => {
  const fields = { ...FIELDS, refusal: '/choices/0/delta/refusal', usage: '/usage', first: '/choices/0' }
  const STRINGS = ['', 'a', 'é "q" \\', '日本 😀', 'nl\nx', '\u0000']
  for (const seed of [1, 2, 3]) {
    const r = rng(seed)
    const docs = []
    for (let i = 0; i < 300; i++) {
      const delta = {}
      if (r() < 0.5) delta.content = r() < 0.8 ? pick(r, STRINGS) : pick(r, [null, 1, [1], { a: 'b' }])
      if (r() < 0.3) delta.tool_calls = [{ index: 0, function: { arguments: pick(r, STRINGS) } }]
      if (r() < 0.1) delta.refusal = pick(r, STRINGS)
      const doc = r() < 0.1 ? { choices: [], usage: { total_tokens: 3 } } : { choices: [{ index: 0, delta }] }
      let json = JSON.stringify(doc)
      if (r() < 0.2) json = json.replace(/[a-z]/g, (c) => (r() < 0.3 ? `\\u00${c.charCodeAt(0).toString(16)}` : c))
      if (r() < 0.15) json = json.slice(0, Math.floor(r() * json.length))
      docs.push(json.toWellFormed())
    }
    const srv = await startServer((req, res) => respond(res, docs.map((d) => `data: ${d}\n\n`).join('')))
    try {
      const sse = new SSEClient().create()
      const got = await post(sse, { url: srv.url, select: fields })
      const want = []
      for (const json of docs) {
        let doc
        try {
          doc = JSON.parse(json)
        } catch {
          want.push(['message', json])
          continue
        }
        const found = []
        for (const [name, pointer] of Object.entries(fields)) {
          const value = lookup(doc, pointer)
          if (value !== undefined) found.push([name, value])
        }
        if (found.length === 0) want.push(['message', json])
        else want.push(...found)
      }
      assert.equal(got.length, want.length, `seed ${seed}`)
      for (const [i, [name, value]] of want.entries()) {
        assert.equal(got[i][0], name, `seed ${seed}, message ${i}`)
        if (typeof value === 'string') assert.equal(got[i][1], value, `seed ${seed}, message ${i}`)
        else assert.deepEqual(JSON.parse(got[i][1]), value, `seed ${seed}, message ${i}`)
      }
    } finally {
      await srv.close()
    }
  }
})
