// Issue 10: URLs in messages never carry credentials, and a request url cannot take the client's
// default headers to another origin unless the client allows it (allowAbsoluteUrls).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, collect, sse } from '../helpers/server.mjs'

const SECRETS = ['hunter2', 'sk-secret', 'tok-123']

function assertRedacted(err, what) {
  for (const secret of SECRETS) {
    assert.ok(!err.message.includes(secret), `${what}: ${secret} in ${JSON.stringify(err.message)}`)
    assert.ok(!String(err.stack).includes(secret), `${what}: ${secret} in the stack`)
  }
}

test('INVALID_URL messages redact the userinfo and the query values of url and baseUrl', () => {
  const instance = new SSEClient().create()
  for (const url of [
    'htp://user:hunter2@127.0.0.1/sse?key=sk-secret',
    'http://user:hunter2@[::1/sse?key=sk-secret&t=tok-123',
    'ftp://hunter2@127.0.0.1/?key=sk-secret',
    'relative/path?key=sk-secret',
  ]) {
    let err
    try {
      instance.post({ url })
    } catch (e) {
      err = e
    }
    assert.equal(err?.code, 'INVALID_URL', url)
    assertRedacted(err, url)
    assert.match(err.message, /\*\*\*/)
  }
  for (const baseUrl of ['http://user:hunter2@[::1/', 'nope?key=sk-secret']) {
    let err
    try {
      new SSEClient({ baseUrl })
    } catch (e) {
      err = e
    }
    assert.equal(err?.code, 'INVALID_URL', baseUrl)
    assertRedacted(err, baseUrl)
  }
})

test('with a baseUrl, an absolute or protocol-relative url to another origin is refused by default', async () => {
  const api = await startServer((req, res) => sse(res, 'data: api\n\n'))
  const other = await startServer((req, res) => sse(res, 'data: other\n\n'))
  try {
    const client = new SSEClient({ baseUrl: `${api.base}/v1/`, headers: { authorization: 'Bearer sk-secret' } })
    const instance = client.create()
    const otherHost = other.base.replace('http:', '')
    for (const url of [other.url, `${otherHost}/sse`]) {
      assert.throws(
        () => instance.post({ url }),
        (err) => {
          assert.equal(err.code, 'INVALID_URL')
          assert.match(err.message, /leaves baseUrl's origin/)
          assert.match(err.message, /allowAbsoluteUrls: true/)
          return true
        },
        url,
      )
    }
    // A relative url, and an absolute one on baseUrl's own origin, are fine.
    for (const url of ['chat', `${api.base}/v1/abs`]) {
      const got = collect(instance, { url, reconnectCount: 0 })
      assert.deepEqual(await got.done, { ok: true }, url)
    }
    assert.deepEqual(
      api.requests.map((r) => [r.url, r.headers.authorization]),
      [
        ['/v1/chat', 'Bearer sk-secret'],
        ['/v1/abs', 'Bearer sk-secret'],
      ],
    )
    assert.equal(other.requests.length, 0)
  } finally {
    await api.close()
    await other.close()
  }
})

test('allowAbsoluteUrls: true lets a url leave the baseUrl origin', async () => {
  const api = await startServer((req, res) => sse(res, 'data: api\n\n'))
  const other = await startServer((req, res) => sse(res, 'data: other\n\n'))
  try {
    const client = new SSEClient({ baseUrl: `${api.base}/v1/`, allowAbsoluteUrls: true })
    const got = collect(client.create(), { url: other.url, reconnectCount: 0 })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['other'],
    )
    assert.equal(other.requests.length, 1)
    assert.throws(() => new SSEClient({ allowAbsoluteUrls: 'yes' }), { code: 'INVALID_OPTIONS' })
  } finally {
    await api.close()
    await other.close()
  }
})
