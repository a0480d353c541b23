// What users' networks need (issue 5): proxies (option and environment), mutual TLS, compressed
// bodies and HTTP/2 over TLS, each against a real local server.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import http2 from 'node:http2'
import https from 'node:https'
import { once } from 'node:events'
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib'
import { SSEClient } from '../../index.mjs'
import { selfSignedCert } from '../helpers/tls.mjs'
import { startServer, collect, sse } from '../helpers/server.mjs'

/** A forward proxy for plain http: takes absolute-form requests and relays them; records each URL. */
async function startProxy() {
  const seen = []
  const server = http.createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers })
    const upstream = http.request(req.url, { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => res.destroy())
    req.pipe(upstream)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    seen,
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => {
      server.closeAllConnections()
      server.close()
    },
  }
}

test('the proxy option sends every request through the proxy', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: via proxy\n\n'))
  const proxy = await startProxy()
  try {
    const got = collect(new SSEClient({ proxy: proxy.url }).create(), { url: srv.url, body: { a: 1 } })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['via proxy'],
    )
    assert.equal(proxy.seen.length, 1)
    assert.equal(proxy.seen[0].url, srv.url)
    assert.deepEqual(JSON.parse(srv.requests[0].body), { a: 1 })
    assert.throws(() => new SSEClient({ proxy: 'not a proxy url' }), { code: 'INVALID_OPTIONS' })
  } finally {
    proxy.close()
    await srv.close()
  }
})

test('HTTP_PROXY is honoured, and NO_PROXY exempts a host, as curl does', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: ok\n\n'))
  const proxy = await startProxy()
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY }
  const restore = () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
  try {
    // The environment is read when a client is made.
    process.env.HTTP_PROXY = proxy.url
    delete process.env.NO_PROXY
    const proxied = new SSEClient()
    process.env.NO_PROXY = '127.0.0.1'
    const direct = new SSEClient()
    restore()
    assert.deepEqual(await collect(proxied.create(), { url: srv.url }).done, { ok: true })
    assert.equal(proxy.seen.length, 1)
    assert.deepEqual(await collect(direct.create(), { url: srv.url }).done, { ok: true })
    assert.equal(proxy.seen.length, 1)
    assert.equal(srv.requests.length, 2)
  } finally {
    restore()
    proxy.close()
    await srv.close()
  }
})

test('mutual TLS: cert and key are presented; without them the server refuses with TLS', async (t) => {
  const server = selfSignedCert()
  const client = selfSignedCert('/CN=native-sse test client')
  if (server === null || client === null) {
    t.skip('openssl is not installed: cannot make certificates')
    return
  }
  let peer = null
  const https1 = https.createServer(
    { key: server.key, cert: server.cert, ca: client.cert, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      peer = req.socket.getPeerCertificate().subject?.CN
      req.resume()
      sse(res, 'data: hello client\n\n')
    },
  )
  https1.listen(0, '127.0.0.1')
  await once(https1, 'listening')
  const url = `https://127.0.0.1:${https1.address().port}/sse`
  try {
    const withCert = new SSEClient({ ca: server.cert, cert: client.cert, key: client.key })
    const got = collect(withCert.create(), { url })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['hello client'],
    )
    assert.equal(peer, 'native-sse test client')
    const without = collect(new SSEClient({ ca: server.cert }).create(), { url, reconnectCount: 0 })
    const { error } = await without.done
    assert.equal(error.code, 'TLS', error.message)
    assert.throws(() => new SSEClient({ cert: client.cert }), { code: 'INVALID_OPTIONS' })
  } finally {
    https1.closeAllConnections()
    https1.close()
  }
})

for (const [encoding, compress] of [
  ['gzip', gzipSync],
  ['deflate', deflateSync],
  ['br', brotliCompressSync],
]) {
  test(`a ${encoding} response body is decoded`, async () => {
    const text = 'id: 1\ndata: compressed ünïcode\n\n'.repeat(50)
    const srv = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': encoding })
      res.end(compress(Buffer.from(text)))
    })
    try {
      const got = collect(new SSEClient().create(), { url: srv.url })
      assert.deepEqual(await got.done, { ok: true })
      assert.equal(got.messages.length, 50)
      assert.equal(got.messages[49].data, 'compressed ünïcode')
      // br is decoded when a server sends it, but not asked for (see the next test).
      const offered = encoding !== 'br'
      assert.equal(new RegExp(`\\b${encoding}\\b`).test(srv.requests[0].headers['accept-encoding']), offered)
    } finally {
      await srv.close()
    }
  })
}

test('the default accept-encoding offers gzip and deflate, not br; a request that names br gets it', async () => {
  // A brotli decoder keeps a ring buffer that grows with the output up to the stream's window (4 MiB
  // with Node's default encoder, 16 MiB at most) for the stream's whole life: about 5 MiB a long
  // stream against 350 KiB with gzip (bench/decode-memory.mjs).
  const text = 'data: squeezed\n\n'.repeat(20)
  const srv = await startServer((req, res) => {
    const br = /\bbr\b/.test(req.headers['accept-encoding'] ?? '')
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': br ? 'br' : 'gzip' })
    res.end(br ? brotliCompressSync(Buffer.from(text)) : gzipSync(Buffer.from(text)))
  })
  try {
    const sse = new SSEClient().create()
    const plain = collect(sse, { url: srv.url })
    assert.deepEqual(await plain.done, { ok: true })
    assert.equal(srv.requests[0].headers['accept-encoding'], 'gzip, deflate')
    const asked = collect(sse, { url: srv.url, headers: { 'accept-encoding': 'br' } })
    assert.deepEqual(await asked.done, { ok: true })
    assert.equal(srv.requests[1].headers['accept-encoding'], 'br')
    assert.equal(plain.messages.length, 20)
    assert.equal(asked.messages.length, 20)
  } finally {
    await srv.close()
  }
})

test('HTTP/2 is used when a TLS server offers it and http2 is true', async (t) => {
  const pair = selfSignedCert()
  if (pair === null) {
    t.skip('openssl is not installed: cannot make a certificate')
    return
  }
  const versions = []
  const server = http2.createSecureServer({ ...pair, allowHTTP1: true }, (req, res) => {
    versions.push(req.httpVersion)
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end('data: over h2\n\n')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const instance = new SSEClient({ ca: pair.cert, http2: true }).create()
    const url = `https://127.0.0.1:${server.address().port}/sse`
    for (let i = 0; i < 2; i++) {
      const got = collect(instance, { url, body: { i } })
      assert.deepEqual(await got.done, { ok: true })
      assert.deepEqual(
        got.messages.map((m) => m.data),
        ['over h2'],
      )
    }
    assert.deepEqual(versions, ['2.0', '2.0'])
  } finally {
    server.close()
  }
})
