// A resumable generation on a Redis reached over TLS (rediss://): a real redis-server with a
// certificate signed by a CA of the test's own, trusted through the store's `ca` option.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startUpstream } from '../helpers/resumable.mjs'
import { redisCommand, redisSkip, startRedis } from '../helpers/redis.mjs'
import { caSignedLeaf } from '../helpers/tls-ca.mjs'

async function collect(stream) {
  const messages = []
  for await (const msg of stream) messages.push(msg)
  return messages
}

test(
  'rediss:// with store.ca: a generation is logged over TLS and replayed by resume()',
  { skip: redisSkip },
  async (t) => {
    const pki = caSignedLeaf()
    if (pki === null) return t.skip('openssl is not installed: cannot make a certificate')
    const redis = await startRedis({ tls: { key: pki.key, cert: pki.cert } })
    const upstream = await startUpstream({ count: 5, gapMs: 1 })
    const client = new SSEClient({ store: { url: redis.tlsUrl, ca: pki.ca } })
    t.after(async () => {
      await client.close()
      await upstream.close()
      await redis.stop()
    })
    const live = await collect(client.create().stream({ url: upstream.url, resumable: { id: 'tls-gen' } }))
    const replay = await client.resume({ id: 'tls-gen' })
    assert.notEqual(replay, null)
    const replayed = await collect(replay)
    assert.deepEqual(
      replayed.map((m) => m.data),
      live.map((m) => m.data),
    )
    assert.deepEqual(live.map((m) => m.data).slice(0, 5), ['t0', 't1', 't2', 't3', 't4'])
    // The log is in that Redis (read over its plain port).
    assert.equal(await redisCommand(redis.port, 'EXISTS', 'nsse:{tls-gen}:log'), '1')
  },
)

test(
  'rediss:// without the CA fails with STORE naming the certificate, and store.ca needs rediss://',
  { skip: redisSkip },
  async (t) => {
    const pki = caSignedLeaf()
    if (pki === null) return t.skip('openssl is not installed: cannot make a certificate')
    const redis = await startRedis({ tls: { key: pki.key, cert: pki.cert } })
    const client = new SSEClient({ store: redis.tlsUrl })
    t.after(async () => {
      await client.close()
      await redis.stop()
    })
    await assert.rejects(client.resume({ id: 'any' }), (err) => {
      assert.equal(err.code, 'STORE')
      assert.match(err.message, /certificate/i)
      return true
    })
    assert.throws(() => new SSEClient({ store: { url: redis.url, ca: pki.ca } }), {
      code: 'INVALID_OPTIONS',
      message: /store\.ca applies to a rediss:\/\//,
    })
    assert.throws(() => new SSEClient({ store: { url: redis.tlsUrl, ca: 42 } }), {
      code: 'INVALID_OPTIONS',
      message: 'store.ca must be a string or binary data, got number',
    })
  },
)
