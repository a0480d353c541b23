// Issue 10: a cross-origin redirect drops every credential-bearing header (undici's list and the
// AI providers' API-key headers), while a same-origin redirect keeps them. Two servers on
// 127.0.0.1 with different ports are two origins.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, collect, sse } from '../helpers/server.mjs'

const CREDENTIALS = {
  authorization: 'Bearer sk-auth',
  'proxy-authorization': 'Basic cHJveHk=',
  cookie: 'sid=1',
  'x-api-key': 'sk-ant-key',
  'api-key': 'azure-key',
  'x-goog-api-key': 'gemini-key',
  'ocp-apim-subscription-key': 'apim-key',
  'x-auth-token': 'tok',
  'x-amz-security-token': 'amz',
}

test('a redirect to another origin drops each credential header and keeps the others', async () => {
  const target = await startServer((req, res) => sse(res, 'data: moved\n\n'))
  const origin = await startServer((req, res) => {
    res.writeHead(307, { location: target.url })
    res.end()
  })
  try {
    const got = collect(new SSEClient().create(), {
      url: origin.url,
      body: { keep: 'me' },
      headers: { ...CREDENTIALS, 'x-custom': 'kept' },
      reconnectCount: 0,
    })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['moved'],
    )
    const first = origin.requests[0].headers
    const moved = target.requests[0]
    for (const [name, value] of Object.entries(CREDENTIALS)) {
      assert.equal(first[name], value, `${name} is sent to the origin it was given for`)
      assert.equal(moved.headers[name], undefined, `${name} must not reach the other origin`)
    }
    assert.equal(moved.headers['x-custom'], 'kept')
    assert.equal(moved.headers.referer, undefined, 'no Referer leaks the previous URL')
    assert.equal(moved.method, 'POST')
    assert.deepEqual(JSON.parse(moved.body), { keep: 'me' })
  } finally {
    await origin.close()
    await target.close()
  }
})

test('a redirect within the origin keeps the credential headers', async () => {
  const srv = await startServer((req, res) => {
    if (req.url === '/sse') {
      res.writeHead(308, { location: '/moved?x=1' })
      res.end()
    } else sse(res, 'data: here\n\n')
  })
  try {
    const got = collect(new SSEClient().create(), { url: srv.url, headers: CREDENTIALS, reconnectCount: 0 })
    assert.deepEqual(await got.done, { ok: true })
    assert.equal(srv.requests.length, 2)
    assert.equal(srv.requests[1].url, '/moved?x=1')
    for (const [name, value] of Object.entries(CREDENTIALS)) assert.equal(srv.requests[1].headers[name], value, name)
  } finally {
    await srv.close()
  }
})

test('a 303 turns the POST into a GET without its body or content headers', async () => {
  const target = await startServer((req, res) => sse(res, 'data: seen\n\n'))
  const origin = await startServer((req, res) => {
    res.writeHead(303, { location: target.url })
    res.end()
  })
  try {
    const got = collect(new SSEClient().create(), { url: origin.url, body: { a: 1 }, reconnectCount: 0 })
    assert.deepEqual(await got.done, { ok: true })
    const moved = target.requests[0]
    assert.equal(moved.method, 'GET')
    assert.equal(moved.body.length, 0)
    assert.equal(moved.headers['content-type'], undefined)
  } finally {
    await origin.close()
    await target.close()
  }
})

test('a refused redirect is a final REDIRECT error, not retried reconnectCount times', async () => {
  // Every hop redirects again: refused after 10 redirects.
  const loop = await startServer((req, res) => {
    res.writeHead(302, { location: '/again' })
    res.end()
  })
  // A redirect to a scheme that is neither http nor https.
  const ftp = await startServer((req, res) => {
    res.writeHead(307, { location: 'ftp://127.0.0.1/file' })
    res.end()
  })
  try {
    const sse = new SSEClient().create()
    const many = collect(sse, { url: loop.url, reconnectCount: 3, retryDelay: 1 })
    const { ok, error } = await many.done
    assert.equal(ok, false)
    assert.equal(error.code, 'REDIRECT')
    assert.equal(error.willRetry, false)
    assert.match(error.message, /more than 10 redirects/)
    assert.equal(many.errors.length, 1, 'onError once, for the final error: no retry')
    assert.equal(loop.requests.length, 11, 'one attempt: the first request and 10 redirects')
    const scheme = collect(sse, { url: ftp.url, reconnectCount: 3, retryDelay: 1 })
    const refused = await scheme.done
    assert.equal(refused.error.code, 'REDIRECT')
    assert.match(refused.error.message, /"ftp"/)
    assert.equal(ftp.requests.length, 1)
  } finally {
    await loop.close()
    await ftp.close()
  }
})
