// `accumulate`: the final message assembled natively and handed to JS once (`request.final`),
// checked against what the official SDKs' own helpers assemble from the same bytes, served by a
// local server (openai-node's finalChatCompletion() and finalResponse(), the Anthropic SDK's
// MessageStream.finalMessage()).
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import Anthropic from '@anthropic-ai/sdk'
import { SSEClient } from '../../index.mjs'
import { startServer, closeSentinel } from '../helpers/server.mjs'
import { aiFixture } from '../helpers/ai.mjs'

after(closeSentinel)

/** Serves the fixture whose name the test last set, to every request (ours and the SDKs'). */
async function fixtureServer() {
  const srv = await startServer((req, res) => {
    // Cut inside multi-byte characters and escapes: the stream arrives in 7-byte writes.
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    const bytes = Buffer.from(aiFixture(srv.fixture))
    for (let i = 0; i < bytes.length; i += 7) res.write(bytes.subarray(i, i + 7))
    res.end()
  })
  return srv
}

const srv = await fixtureServer()
after(() => srv.close())
const openai = new OpenAI({ apiKey: 'test', baseURL: `${srv.base}/v1`, maxRetries: 0 })
const anthropic = new Anthropic({ apiKey: 'test', baseURL: srv.base, maxRetries: 0 })
const native = new SSEClient().create()

/** Ours, without what only it adds: `format`, tool calls' `index` and `parsed_arguments`. */
function withoutExtras(message) {
  const copy = structuredClone(message)
  delete copy.format
  if (copy.usage === null) delete copy.usage
  for (const choice of copy.choices ?? []) {
    for (const call of choice.message.tool_calls ?? []) {
      delete call.index
      assert.deepEqual(call.function.parsed_arguments, JSON.parse(call.function.arguments))
      delete call.function.parsed_arguments
    }
  }
  for (const item of copy.output ?? []) {
    if (item.type === 'function_call') {
      assert.deepEqual(item.parsed_arguments, JSON.parse(item.arguments))
      delete item.parsed_arguments
    }
  }
  return copy
}

/** The SDK's, without what its helpers add for parsed structured outputs (and undefined members). */
function withoutHelperFields(message) {
  const copy = JSON.parse(JSON.stringify(message))
  delete copy.parsed_output
  delete copy.output_parsed
  for (const item of copy.output ?? []) {
    for (const part of item.content ?? []) delete part.parsed
    if (item.type === 'function_call') delete item.parsed_arguments
  }
  for (const choice of copy.choices ?? []) {
    delete choice.message.parsed
    if (choice.logprobs === null) delete choice.logprobs
  }
  return copy
}

async function ours(fixture, format) {
  srv.fixture = fixture
  const deltas = []
  const req = native.post({ url: srv.url, accumulate: format, onMessage: (msg) => deltas.push(msg) })
  const final = await req.final
  assert.equal(await req.done, 'end')
  return { final, deltas }
}

const TOOLS = [{ type: 'function', function: { name: 'search', parameters: {} } }]

for (const fixture of ['openai-chat-text.sse', 'openai-chat-tools.sse', 'openai-chat-refusal.sse']) {
  test(`openai-chat (${fixture}) assembles what openai-node's finalChatCompletion() does`, async () => {
    const { final, deltas } = await ours(fixture, 'openai-chat')
    assert.equal(final.format, 'openai-chat')
    // onMessage still sees every delta.
    assert.equal(deltas.length, aiFixture(fixture).split('\n\n').filter(Boolean).length)
    srv.fixture = fixture
    const sdk = await openai.chat.completions.stream({ model: 'm', messages: [], tools: TOOLS }).finalChatCompletion()
    assert.deepEqual(withoutExtras(final), withoutHelperFields(sdk))
  })
}

test("openai-responses assembles what openai-node's finalResponse() does", async () => {
  const { final } = await ours('openai-responses.sse', 'openai-responses')
  assert.equal(final.output_text, 'Hello, héllo 日本')
  srv.fixture = 'openai-responses.sse'
  const sdk = await openai.responses.stream({ model: 'm', input: 'x' }).finalResponse()
  assert.deepEqual(withoutExtras(final), withoutHelperFields(sdk))
})

for (const fixture of ['anthropic-text.sse', 'anthropic-tools.sse']) {
  test(`anthropic-messages (${fixture}) assembles what the Anthropic SDK's finalMessage() does`, async () => {
    const { final } = await ours(fixture, 'anthropic-messages')
    assert.equal(final.format, 'anthropic-messages')
    srv.fixture = fixture
    const sdk = await anthropic.messages.stream({ model: 'm', max_tokens: 10, messages: [] }).finalMessage()
    assert.deepEqual(withoutExtras(final), withoutHelperFields(sdk))
  })
}

for (const [fixture, format, message, type] of [
  ['openai-chat-error.sse', 'openai-chat', 'The server had an error while processing your request.', 'server_error'],
  ['anthropic-error.sse', 'anthropic-messages', 'Overloaded', 'overloaded_error'],
]) {
  test(`a provider's error event (${fixture}) fails the request with PROVIDER_ERROR and its message`, async () => {
    srv.fixture = fixture
    const errors = []
    const deltas = []
    const req = native.post({
      url: srv.url,
      accumulate: format,
      onMessage: (msg) => deltas.push(msg),
      onError: (err) => errors.push(err),
    })
    await assert.rejects(req.done, { code: 'PROVIDER_ERROR', message, willRetry: false })
    await assert.rejects(req.final, { code: 'PROVIDER_ERROR', message })
    assert.equal(errors.length, 1)
    assert.equal(JSON.parse(errors[0].body).type, type)
    // The error event is delivered too, like every other event.
    assert.match(deltas.at(-1).data, /error/)
    // The SDK fails on the same bytes, with the same message.
    const sdk =
      format === 'openai-chat'
        ? openai.chat.completions.stream({ model: 'm', messages: [] }).finalChatCompletion()
        : anthropic.messages.stream({ model: 'm', max_tokens: 10, messages: [] }).finalMessage()
    await assert.rejects(sdk, (err) => err.message.startsWith(message))
  })
}

test('final is undefined without accumulate, and accumulate works beside select', async () => {
  srv.fixture = 'openai-chat-tools.sse'
  const plain = native.post({ url: srv.url })
  assert.equal(await plain.final, undefined)
  const args = []
  const req = native.post({
    url: srv.url,
    accumulate: 'openai-chat',
    select: '/choices/0/delta/tool_calls/0/function/arguments',
    selectMissing: 'drop',
    onMessage: (msg) => args.push(msg.data),
  })
  const final = await req.final
  // select saw the first tool call's argument deltas (the first of each call is ""); accumulate
  // saw the whole chunks.
  assert.equal(args.length, 8)
  // (the first element of each chunk's tool_calls, whichever call it is: the two interleave).
  assert.equal(args.join(''), '{"q": "caf\\u00e9 \\"x\\" 日{"city":"\\ud83d本"}\\ude00 Paris"}')
  assert.equal(final.choices[0].message.tool_calls.length, 2)
})

test('stream() exposes final too', async () => {
  srv.fixture = 'anthropic-text.sse'
  const stream = native.stream({ url: srv.url, accumulate: 'anthropic-messages' })
  let n = 0
  for await (const _ of stream) n++
  assert.equal(n, 8)
  assert.equal((await stream.final).content[0].text, 'Hello, héllo "w"\n日本 😀')
})

test('an unknown accumulate format is INVALID_OPTIONS, thrown at once', () => {
  assert.throws(
    () => native.post({ url: srv.url, accumulate: 'openai' }),
    (err) =>
      err.code === 'INVALID_OPTIONS' &&
      /accumulate must be 'openai-chat', 'openai-responses' or 'anthropic-messages', got "openai"/.test(err.message),
  )
})

test('snapshotEvery: onSnapshot gets the tool arguments parsed so far, at most once per N bytes', async () => {
  srv.fixture = 'anthropic-tools.sse'
  const seen = []
  const req = native.post({
    url: srv.url,
    accumulate: 'anthropic-messages',
    snapshotEvery: 8,
    onMessage: (msg) => seen.push(['message', JSON.parse(msg.data).type]),
    onSnapshot: (snapshot) => seen.push(['snapshot', snapshot]),
  })
  const final = await req.final
  const snapshots = seen.filter(([kind]) => kind === 'snapshot').map(([, s]) => s)
  // The input JSON grows to 12, 26 and 48 bytes (its first delta is empty): three snapshots, each
  // after the delta that brought it, the last one the whole input.
  assert.equal(snapshots.length, 3)
  assert.deepEqual(snapshots[0], { index: 1, id: 'toolu_a', name: 'search', arguments: { q: 'caf' } })
  assert.deepEqual(snapshots[1].arguments, { q: 'café "x" 日' })
  assert.deepEqual(snapshots[2].arguments, final.content[1].input)
  const at = seen.findIndex(([kind]) => kind === 'snapshot')
  assert.deepEqual(seen[at - 1], ['message', 'content_block_delta'])
})

test('snapshotEvery without accumulate, or below 1, is INVALID_OPTIONS', () => {
  for (const [options, message] of [
    [{ snapshotEvery: 64 }, /snapshotEvery needs accumulate/],
    [{ accumulate: 'openai-chat', snapshotEvery: 0 }, /snapshotEvery must be a number of bytes of at least 1, got 0/],
    [{ accumulate: 'openai-chat', snapshotEvery: '64' }, /snapshotEvery must be a number, got string/],
    [{ accumulate: 'openai-chat', onSnapshot: 1 }, /onSnapshot must be a function/],
  ]) {
    assert.throws(
      () => native.post({ url: srv.url, ...options }),
      (err) => err.code === 'INVALID_OPTIONS' && message.test(err.message),
    )
  }
})
