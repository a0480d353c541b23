// Issue 10: a lone self-signed certificate passed as `ca` (what `openssl req -x509` makes, CA:TRUE)
// is trusted, as Node's fetch and curl do; a CA-signed leaf still works; the host name and the
// exact certificate are still checked.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import https from 'node:https'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { collect, sse } from '../helpers/server.mjs'
import { selfSignedCaCert, caSignedLeaf } from '../helpers/tls-ca.mjs'

async function httpsServer(t, pair) {
  const server = https.createServer({ key: pair.key, cert: pair.cert }, (req, res) => {
    req.resume()
    sse(res, 'data: secure\n\n')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => {
    server.closeAllConnections()
    server.close()
  })
  return `https://127.0.0.1:${server.address().port}/sse`
}

async function stream(ca, url) {
  const got = collect(new SSEClient({ ca }).create(), { url, reconnectCount: 0 })
  return { ...(await got.done), messages: got.messages.map((m) => m.data) }
}

test('a lone self-signed CA:TRUE certificate given as ca is trusted', async (t) => {
  const pair = selfSignedCaCert()
  if (pair === null) return t.skip('openssl is not installed: cannot make certificates')
  const url = await httpsServer(t, pair)
  assert.deepEqual(await stream(pair.cert, url), { ok: true, messages: ['secure'] })
  // Also when it is one of several certificates in the bundle.
  const other = selfSignedCaCert()
  const bundle = Buffer.concat([other.cert, pair.cert])
  assert.deepEqual(await stream(bundle, url), { ok: true, messages: ['secure'] })
})

test('a leaf signed by the CA given as ca is trusted', async (t) => {
  const chain = caSignedLeaf()
  if (chain === null) return t.skip('openssl is not installed: cannot make certificates')
  const url = await httpsServer(t, chain)
  assert.deepEqual(await stream(chain.ca, url), { ok: true, messages: ['secure'] })
})

test('a self-signed CA:TRUE certificate for another host name, or another certificate, is refused with TLS', async (t) => {
  const wrongName = selfSignedCaCert('DNS:other.example')
  if (wrongName === null) return t.skip('openssl is not installed: cannot make certificates')
  const url = await httpsServer(t, wrongName)
  const named = await stream(wrongName.cert, url)
  assert.equal(named.ok, false)
  assert.equal(named.error.code, 'TLS')
  const served = selfSignedCaCert()
  const otherUrl = await httpsServer(t, served)
  const stranger = await stream(selfSignedCaCert().cert, otherUrl)
  assert.equal(stranger.ok, false)
  assert.equal(stranger.error.code, 'TLS')
})

test('a lone self-signed certificate given as ca whose extended key usage excludes serverAuth is refused with TLS', async (t) => {
  const clientOnly = selfSignedCaCert('IP:127.0.0.1', ['extendedKeyUsage=clientAuth'])
  if (clientOnly === null) return t.skip('openssl is not installed: cannot make certificates')
  const refused = await stream(clientOnly.cert, await httpsServer(t, clientOnly))
  assert.equal(refused.ok, false)
  assert.equal(refused.error.code, 'TLS')
  assert.match(refused.error.message, /usage|purpose/i)
  // serverAuth among other usages is accepted.
  const both = selfSignedCaCert('IP:127.0.0.1', ['extendedKeyUsage=clientAuth,serverAuth'])
  assert.deepEqual(await stream(both.cert, await httpsServer(t, both)), { ok: true, messages: ['secure'] })
})
