// Compressed responses: every content coding RFC 9110 allows the client to receive (gzip, x-gzip,
// deflate, br, in any case, stacked) is decoded; a coding that cannot be decoded, or a body that is
// not what its coding says, fails with BAD_CONTENT_ENCODING instead of ending cleanly.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import zlib from 'node:zlib'
import { SSEClient } from '../../index.mjs'
import { startServer, collect } from '../helpers/server.mjs'
import { deliveries } from '../helpers/deliveries.mjs'

const EVENTS = 'data: one\n\nid: 2\ndata: two\ndata: lines\n\n'
const EXPECTED = ['one', 'two\nlines']

/** A server whose response is `encode(EVENTS)` with `content-encoding: coding`. */
const compressed = (coding, encode) =>
  startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': coding })
    res.end(encode(Buffer.from(EVENTS)))
  })

async function receive(url) {
  const got = collect(new SSEClient().create(), { url, reconnectCount: 0 })
  const { ok, error } = await got.done
  return { ok, code: error?.code, message: error?.message, data: got.messages.map((m) => m.data) }
}

const CASES = [
  ['gzip', zlib.gzipSync],
  ['GZIP', zlib.gzipSync],
  ['x-gzip', zlib.gzipSync],
  ['X-Gzip', zlib.gzipSync],
  ['deflate', zlib.deflateSync],
  ['Deflate', zlib.deflateRawSync],
  ['br', zlib.brotliCompressSync],
  ['BR', zlib.brotliCompressSync],
  ['identity', (b) => b],
  // Listed in the order they were applied: br last, so it is undone first.
  ['gzip, br', (b) => zlib.brotliCompressSync(zlib.gzipSync(b))],
  ['gzip,  identity ,DEFLATE', (b) => zlib.deflateSync(zlib.gzipSync(b))],
]

for (const [coding, encode] of CASES) {
  test(`content-encoding ${JSON.stringify(coding)} is decoded`, async () => {
    const srv = await compressed(coding, encode)
    try {
      assert.deepEqual(await receive(srv.url), { ok: true, code: undefined, message: undefined, data: EXPECTED })
      assert.match(srv.requests[0].headers['accept-encoding'], /gzip/)
    } finally {
      await srv.close()
    }
  })
}

test('a coding that cannot be decoded fails with BAD_CONTENT_ENCODING naming it, not a clean end', async () => {
  const srv = await compressed('zstd', (b) => b)
  try {
    const got = await receive(srv.url)
    assert.equal(got.ok, false)
    assert.equal(got.code, 'BAD_CONTENT_ENCODING')
    assert.match(got.message, /"zstd"/)
    assert.deepEqual(got.data, [])
  } finally {
    await srv.close()
  }
})

test('a body that is not what its coding says fails with BAD_CONTENT_ENCODING, also when cut short', async () => {
  const garbage = await compressed('GZIP', () => Buffer.from('data: plain text, not gzip\n\n'))
  const whole = zlib.gzipSync(Buffer.from(EVENTS))
  const truncated = await compressed('gzip', () => whole.subarray(0, whole.length - 6))
  try {
    for (const srv of [garbage, truncated]) {
      const got = await receive(srv.url)
      assert.equal(got.ok, false)
      assert.equal(got.code, 'BAD_CONTENT_ENCODING', got.message)
      assert.equal(srv.requests.length, 1, 'not retried')
    }
  } finally {
    await garbage.close()
    await truncated.close()
  }
})

test('a brotli bomb is decoded in bounded steps: maxEventSize stops it, memory stays flat', async () => {
  // 512 MiB of one endless line, brotli'd to about 400 bytes (brotli's ratio has no bound).
  const bomb = await new Promise((resolve, reject) => {
    const chunks = []
    const { BROTLI_PARAM_QUALITY, BROTLI_PARAM_LGWIN } = zlib.constants
    const compress = zlib.createBrotliCompress({ params: { [BROTLI_PARAM_QUALITY]: 5, [BROTLI_PARAM_LGWIN]: 24 } })
    compress.on('data', (c) => chunks.push(c))
    compress.on('end', () => resolve(Buffer.concat(chunks)))
    compress.on('error', reject)
    // One 1 MiB block written 512 times: the test itself stays small, so that its peak RSS is the
    // client's.
    const block = Buffer.alloc(1 << 20, 'a')
    compress.write('data: ')
    for (let i = 0; i < 512; i++) compress.write(block)
    compress.end()
  })
  assert.ok(bomb.length < 1 << 20, `${bomb.length} bytes`)
  const srv = await compressed('br', () => bomb)
  try {
    // Peak RSS (KiB): large buffers are unmapped when freed, so the RSS after the fact says nothing.
    const before = process.resourceUsage().maxRSS
    const got = collect(new SSEClient().create(), { url: srv.url, reconnectCount: 0, maxEventSize: 1 << 20 })
    const { error } = await got.done
    const grown = (process.resourceUsage().maxRSS - before) >> 10
    assert.equal(error.code, 'EVENT_TOO_LARGE')
    assert.ok(grown < 64, `peak RSS grew by ${grown} MiB while decoding`)
  } finally {
    await srv.close()
  }
})

test('a compressed read that decodes to many events is handed to JS in bounded deliveries', async () => {
  // 64 MiB of 1 KiB events, brotli'd to about 100 bytes: one network read. The events of one read
  // gather until it ends (one wake-up of JS per read), but no more than a bounded amount of them.
  const EVENT = `data: ${'b'.repeat(1024 - 8)}\n\n`
  const COUNT = 64 * 1024
  const body = await new Promise((resolve, reject) => {
    const chunks = []
    const compress = zlib.createBrotliCompress({ params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } })
    compress.on('data', (c) => chunks.push(c))
    compress.on('end', () => resolve(Buffer.concat(chunks)))
    compress.on('error', reject)
    const block = Buffer.from(EVENT.repeat(1024))
    for (let i = 0; i < COUNT / 1024; i++) compress.write(block)
    compress.end()
  })
  assert.ok(body.length < 64 << 10, `${body.length} bytes`)
  const srv = await compressed('br', () => body)
  try {
    const got = deliveries()
    const req = new SSEClient().create().post({
      url: srv.url,
      reconnectCount: 0,
      onMessage: ({ data }) => got.add(data.length),
    })
    assert.equal(await req.done, 'end')
    assert.equal(got.groups.flat().length, COUNT)
    const largest = Math.max(...got.groups.map((group) => group.reduce((a, b) => a + b, 0)))
    assert.ok(largest <= 8 << 20, `one delivery carried ${largest >> 20} MiB of data`)
  } finally {
    await srv.close()
  }
})
