// The record protocol between the binding and the JS module, pinned from both sides: src/records.rs
// `golden_fixture` encodes a fixed sequence into __test__/fixtures/records.json, and this test
// decodes the same file through the real decoder (lib/internal/records.js), with the record kinds
// the binding exports, and no network.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const binding = require('../../lib/internal/binding.js')
const { createDecoder } = require('../../lib/internal/records.js')
const { RequestState, register } = require('../../lib/internal/request-state.js')
const fixture = JSON.parse(readFileSync(new URL('../fixtures/records.json', import.meta.url), 'utf8'))

test('the golden record fixture decodes to the callbacks, states and ends it encodes', async () => {
  const calls = []
  const native = { release: (id) => calls.push(['release', id]), abort: (id) => calls.push(['abort', id]) }
  const states = {}
  for (const id of [7, 8, 9, 10]) {
    const snap = (kind, value) => calls.push([kind, id, states[id].readyState, states[id].lastEventId, value])
    states[id] = new RequestState(native, id, {
      onOpen: (info) => snap('open', info),
      onMessage: (msg) => snap('message', msg),
      onError: (err) =>
        snap('error', { code: err.code, attempt: err.attempt, willRetry: err.willRetry, status: err.status }),
      onClose: () => snap('close'),
      onText: id === 10 ? (text) => snap('text', text) : undefined,
      onSnapshot: (snapshot) => snap('snapshot', snapshot),
    })
    register(states[id])
  }
  // The binding writes the meta and then the ends into one array, which may be longer than both.
  const words = Uint32Array.from([...fixture.meta, ...fixture.ends, 0xdead, 0xbeef])
  createDecoder(binding)(fixture.texts, words, fixture.meta.length)
  const headers = { 'content-type': 'text/event-stream', 'set-cookie': 'a=1, b=2' }
  assert.deepEqual(calls, [
    ['open', 7, 1, '', { status: 200, headers }],
    ['message', 7, 1, '', { data: 'plain', event: 'message', id: '' }],
    ['message', 7, 1, '1', { data: 'line 1\nline 2', event: 'update', id: '1' }],
    ['message', 7, 1, '1', { data: 'same id', event: 'message', id: '1', retry: 2500 }],
    ['message', 7, 1, '2', { data: 'héllo 日本 😀', event: 'message', id: '2' }],
    ['error', 7, 0, 'only-id', { code: 'TIMEOUT', attempt: 0, willRetry: true, status: undefined }],
    [
      'message',
      7,
      0,
      'only-id',
      { data: 'after retry', event: 'message', id: 'only-id', retry: Number.MAX_SAFE_INTEGER },
    ],
    ['release', 7],
    ['close', 7, 2, 'only-id', undefined],
    ['release', 8],
    ['error', 8, 2, '', { code: 'HTTP_STATUS', attempt: 2, willRetry: false, status: 503 }],
    ['close', 8, 2, '', undefined],
    ['snapshot', 9, 0, '', { index: 0, id: 'call', name: 'f', arguments: { q: 'caf' } }],
    ['release', 9],
    ['close', 9, 2, '', undefined],
    ['open', 10, 1, '', { status: 200, headers: {} }],
    ['text', 10, 1, '', 'data: a\ndata: b\n\nevent: update\nid: 5\nretry: 100\ndata: c\n\n'],
    ['text', 10, 1, '5', 'data: d\n\n'],
    ['release', 10],
    ['close', 10, 2, '6', undefined],
  ])
  assert.equal(await states[7].done, 'done')
  await assert.rejects(states[8].done, { code: 'HTTP_STATUS', body: 'busy' })
  assert.equal(await states[9].done, 'end')
  // FINAL: the message `accumulate` assembled, parsed once `final` is read.
  assert.deepEqual(await states[9].finalMessage(), {
    format: 'openai-chat',
    choices: [{ message: { content: 'hé 😀' } }],
  })
  assert.equal(await states[7].finalMessage(), undefined)
})
