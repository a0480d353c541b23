// Security properties (issue 6): what the client refuses to send, follow or print.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import net from 'node:net'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { selfSignedCert } from '../helpers/tls.mjs'
import { startServer, collect, sse, unusedPort } from '../helpers/server.mjs'

test('a redirect from https to http is refused with REDIRECT, and the http server is never asked', async (t) => {
  const pair = selfSignedCert()
  if (pair === null) {
    t.skip('openssl is not installed: cannot make a self-signed certificate')
    return
  }
  const plain = await startServer((req, res) => sse(res, 'data: downgraded\n\n'))
  const server = https.createServer(pair, (req, res) => {
    req.resume()
    res.writeHead(307, { location: plain.url })
    res.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const got = collect(new SSEClient({ ca: pair.cert }).create(), {
      url: `https://127.0.0.1:${server.address().port}/sse`,
      headers: { authorization: 'Bearer secret' },
      reconnectCount: 0,
    })
    const { error } = await got.done
    assert.equal(error.code, 'REDIRECT')
    assert.match(error.message, /redirect/)
    assert.equal(plain.requests.length, 0)
    assert.equal(got.messages.length, 0)
  } finally {
    server.closeAllConnections()
    server.close()
    await plain.close()
  }
})

test('header names and values with CR, LF or NUL are refused before anything is sent', async () => {
  let connections = 0
  const srv = net.createServer((socket) => {
    connections++
    socket.destroy()
  })
  srv.listen(0, '127.0.0.1')
  await once(srv, 'listening')
  const url = `http://127.0.0.1:${srv.address().port}/`
  try {
    const instance = new SSEClient().create()
    for (const headers of [
      { 'x-a': 'value\r\nx-injected: 1' },
      { 'x-a': 'value\ninjected' },
      { 'x-a': 'nul\0byte' },
      { 'x-a\r\nx-b': 'v' },
      { 'x a': 'v' },
      { '': 'v' },
    ]) {
      assert.throws(() => instance.post({ url, headers }), { code: 'INVALID_OPTIONS' }, JSON.stringify(headers))
    }
    assert.throws(() => new SSEClient({ headers: { 'x-a': 'a\r\n' } }), { code: 'INVALID_OPTIONS' })
    assert.equal(connections, 0)
  } finally {
    srv.close()
  }
})

test('only http and https URLs are accepted', () => {
  const instance = new SSEClient().create()
  for (const url of [
    'file:///etc/passwd',
    'ftp://127.0.0.1/',
    'ws://127.0.0.1/',
    'data:text/plain,x',
    'javascript:1',
  ]) {
    assert.throws(() => instance.post({ url }), { code: 'INVALID_URL' }, url)
  }
})

test('error messages carry neither header values nor URL credentials', async () => {
  const port = await unusedPort()
  const got = collect(new SSEClient().create(), {
    url: `http://user:hunter2@127.0.0.1:${port}/sse?token=abc123`,
    headers: { authorization: 'Bearer sk-topsecret' },
    reconnectCount: 0,
  })
  const { error } = await got.done
  assert.equal(error.code, 'NETWORK')
  for (const secret of ['hunter2', 'abc123', 'sk-topsecret']) {
    assert.ok(!error.message.includes(secret), `${secret} in: ${error.message}`)
    assert.ok(!String(error.stack).includes(secret), `${secret} in the stack`)
  }
})

test('TLS verification is on by default: an untrusted certificate is refused even for 127.0.0.1', async (t) => {
  const pair = selfSignedCert()
  if (pair === null) {
    t.skip('openssl is not installed: cannot make a self-signed certificate')
    return
  }
  let served = 0
  const server = https.createServer(pair, (req, res) => {
    served++
    sse(res, 'data: x\n\n')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  try {
    const { error } = await collect(new SSEClient().create(), {
      url: `https://127.0.0.1:${server.address().port}/`,
      reconnectCount: 0,
    }).done
    assert.equal(error.code, 'TLS')
    assert.equal(served, 0)
  } finally {
    server.closeAllConnections()
    server.close()
  }
})

test('redirects stop after 10: a redirect loop ends in REDIRECT naming the redirects', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(307, { location: `${srv.base}/again${srv.requests.length}` })
    res.end()
  })
  try {
    const { error } = await collect(new SSEClient().create(), { url: srv.url, reconnectCount: 0 }).done
    assert.equal(error.code, 'REDIRECT')
    assert.match(error.message, /redirect/)
    // The first request and 10 followed redirects; the 11th redirect is refused.
    assert.equal(srv.requests.length, 11)
  } finally {
    await srv.close()
  }
})
