// Issue 10: option and header edges the core now handles (User-Agent, content-length, tiny
// timeouts, the maxEventSize cap and what it counts, lastEventId with control characters).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { SSEClient } from '../../index.mjs'
import { startServer, collect, sse } from '../helpers/server.mjs'

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))

test('User-Agent is native-sse/<version> unless the request or the client sets one', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    const plain = new SSEClient().create()
    assert.deepEqual(await collect(plain, { url: srv.url }).done, { ok: true })
    assert.deepEqual(await collect(plain, { url: srv.url, headers: { 'User-Agent': 'mine/1' } }).done, { ok: true })
    const client = new SSEClient({ headers: { 'user-agent': 'client/2' } }).create()
    assert.deepEqual(await collect(client, { url: srv.url }).done, { ok: true })
    assert.deepEqual(
      srv.requests.map((r) => r.headers['user-agent']),
      [`native-sse/${version}`, 'mine/1', 'client/2'],
    )
  } finally {
    await srv.close()
  }
})

test('a content-length header that disagrees with the body is refused before anything is sent', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    const instance = new SSEClient().create()
    for (const length of ['3', '500', 'abc']) {
      assert.throws(
        () => instance.post({ url: srv.url, body: 'hello world', headers: { 'content-length': length } }),
        (err) =>
          err.code === 'INVALID_OPTIONS' && /content-length.*does not match the body \(11 bytes\)/.test(err.message),
        length,
      )
    }
    assert.equal(srv.requests.length, 0)
    const got = collect(instance, { url: srv.url, body: 'hello world', headers: { 'content-length': '11' } })
    assert.deepEqual(await got.done, { ok: true })
    assert.equal(srv.requests[0].body.toString(), 'hello world')
  } finally {
    await srv.close()
  }
})

// The node:test timeout only bounds the old behaviour (a request that never ends).
test('a tiny positive timeout is a timeout, not "off"', { timeout: 10_000 }, async (t) => {
  // The server never answers; timeout 0.0001 ms used to round to 0 and wait forever.
  const srv = await startServer(() => {})
  t.after(() => srv.close())
  const got = collect(new SSEClient().create(), { url: srv.url, timeout: 0.0001, reconnectCount: 0 })
  t.after(() => got.req.abort())
  const { ok, error } = await got.done
  assert.equal(ok, false)
  assert.equal(error.code, 'TIMEOUT')
})

test('maxEventSize above what a JS string can hold is refused, naming the cap', () => {
  const instance = new SSEClient().create()
  for (const maxEventSize of [2 ** 29, 2 ** 30]) {
    assert.throws(
      () => instance.post({ url: 'http://127.0.0.1:9/', maxEventSize }),
      (err) => err.code === 'INVALID_OPTIONS' && /maxEventSize must be at most 535822336 bytes/.test(err.message),
    )
  }
  assert.throws(() => new SSEClient({ maxEventSize: 2 ** 30 }), { code: 'INVALID_OPTIONS' })
})

test('maxEventSize counts the event and id fields, not only the data', async () => {
  const big = 'x'.repeat(400)
  const srv = await startServer((req, res) => sse(res, `event: ${big}\nid: ${big}\ndata: ${big}\n\n`))
  try {
    const got = collect(new SSEClient().create(), { url: srv.url, maxEventSize: 1000, reconnectCount: 0 })
    const { ok, error } = await got.done
    assert.equal(ok, false)
    assert.equal(error.code, 'EVENT_TOO_LARGE')
    assert.equal(got.messages.length, 0)
  } finally {
    await srv.close()
  }
})

test('a lastEventId with a control character is refused instead of silently not sent', () => {
  const instance = new SSEClient().create()
  for (const lastEventId of ['a\u0001b', 'del\u007f', 'esc\u001b[0m']) {
    assert.throws(
      () => instance.post({ url: 'http://127.0.0.1:9/', lastEventId }),
      (err) => err.code === 'INVALID_OPTIONS' && /lastEventId contains the control character U\+00/.test(err.message),
      JSON.stringify(lastEventId),
    )
  }
})
