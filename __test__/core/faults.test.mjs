// Hostile and broken servers (issue 6): every fault ends in a typed error or a correct parse, never a
// crash, a hang or unbounded memory.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import { createGzip } from 'node:zlib'
import { SSEClient } from '../../index.mjs'
import { runModule } from '../helpers/child.mjs'
import { startServer, startRawServer, collect, delay, SSE_HEAD } from '../helpers/server.mjs'

const instance = new SSEClient({ retryDelay: 10 }).create()

test('headers that never end give TIMEOUT', async () => {
  const srv = await startRawServer(async (socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n')
    for (let i = 0; i < 200 && !socket.destroyed; i++) {
      socket.write(`x-header-${i}: ${'v'.repeat(10)}\r\n`)
      await delay(10)
    }
  })
  try {
    const { error } = await collect(instance, { url: srv.url, timeout: 300, reconnectCount: 0 }).done
    assert.equal(error.code, 'TIMEOUT')
    assert.match(error.message, /no response headers within 300 ms/)
  } finally {
    await srv.close()
  }
})

test('a half-open connection (TCP open, nothing sent) gives TIMEOUT, then the retries give up', async () => {
  const srv = await startRawServer(() => {})
  try {
    const got = collect(instance, { url: srv.url, timeout: 100, reconnectCount: 1 })
    const { error } = await got.done
    assert.equal(error.code, 'TIMEOUT')
    assert.equal(srv.connections, 2)
    assert.deepEqual(
      got.errors.map((e) => e.willRetry),
      [true, false],
    )
  } finally {
    await srv.close()
  }
})

test('a BOM in the middle, NUL bytes and invalid UTF-8 are kept or replaced by the spec rules', async () => {
  const body = Buffer.concat([
    Buffer.from('\ufeffdata: start\n\ndata: a\ufeffb\n\nid: x\0y\ndata: n\0ul\n\n'),
    Buffer.from([0x64, 0x61, 0x74, 0x61, 0x3a, 0x20, 0xff, 0xc3, 0x0a, 0x0a]), // "data: " FF C3 LF LF
  ])
  const srv = await startRawServer((socket) => socket.end(Buffer.concat([Buffer.from(SSE_HEAD), body])))
  try {
    const got = collect(instance, { url: srv.url })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(got.messages, [
      { data: 'start', event: 'message', id: '' },
      { data: 'a\ufeffb', event: 'message', id: '' },
      { data: 'n\0ul', event: 'message', id: '' },
      { data: '\ufffd\ufffd', event: 'message', id: '' },
    ])
  } finally {
    await srv.close()
  }
})

test('a chunked-encoding error is a NETWORK error', async () => {
  const srv = await startRawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n')
    socket.end('zz\r\ndata: x\n\n\r\n')
  })
  try {
    const got = collect(instance, { url: srv.url, reconnectCount: 0 })
    const { error } = await got.done
    assert.equal(error.code, 'NETWORK')
    assert.equal(got.messages.length, 0)
  } finally {
    await srv.close()
  }
})

test('a content-length longer than the body is a truncated body: NETWORK', async () => {
  const srv = await startRawServer((socket) => {
    socket.end('HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: 1000\r\n\r\ndata: a\n\n')
  })
  try {
    const got = collect(instance, { url: srv.url, reconnectCount: 0 })
    const { error } = await got.done
    assert.equal(error.code, 'NETWORK')
    assert.deepEqual(
      got.messages.map((m) => m.data),
      ['a'],
    )
  } finally {
    await srv.close()
  }
})

test('a gzip bomb hits maxEventSize, not memory', async () => {
  // 256 MiB of one unterminated line, about 250 KB on the wire.
  const gzip = createGzip({ level: 9 })
  const parts = []
  gzip.on('data', (d) => parts.push(d))
  gzip.write('data: ')
  const block = Buffer.alloc(1 << 20, 'x')
  for (let i = 0; i < 256; i++) if (!gzip.write(block)) await once(gzip, 'drain')
  gzip.end()
  await once(gzip, 'end')
  const bomb = Buffer.concat(parts)
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-encoding': 'gzip' })
    res.end(bomb)
  })
  try {
    const before = process.memoryUsage().rss
    const got = collect(instance, { url: srv.url, maxEventSize: 1 << 20 })
    const { error } = await got.done
    assert.equal(error.code, 'EVENT_TOO_LARGE')
    assert.equal(srv.requests[0].headers['accept-encoding']?.includes('gzip'), true)
    const grown = process.memoryUsage().rss - before
    assert.ok(grown < 128 * 1024 * 1024, `RSS grew by ${(grown / 1048576).toFixed(0)} MiB`)
  } finally {
    await srv.close()
  }
})

test('a server that closes while a large body is being sent gives NETWORK', async () => {
  const srv = await startRawServer((socket) => socket.destroy())
  try {
    const body = Buffer.alloc(32 * 1024 * 1024, 'b')
    const { error } = await collect(instance, { url: srv.url, body, reconnectCount: 0 }).done
    assert.equal(error.code, 'NETWORK')
  } finally {
    await srv.close()
  }
})

test('open streams do not block process.exit()', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: first\n\n')
  })
  try {
    const { code, signal, out } = await runModule(
      `import { SSEClient } from './index.mjs'
       const sse = new SSEClient().create()
       for (let i = 0; i < 20; i++) sse.post({ url: process.argv[1], onMessage: () => {} })
       sse.post({ url: process.argv[1], onMessage: () => { console.log('exiting'); process.exit(7) } })`,
      [srv.url],
    )
    assert.equal(signal, null, out)
    assert.equal(code, 7, out)
    assert.equal(out, 'exiting\n')
  } finally {
    await srv.close()
  }
})

test('the addon loads and unloads in worker threads in a loop, with streams open at termination', async () => {
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < 100 && !res.destroyed; i++) {
      res.write(`data: ${i}\n\n`)
      await delay(5)
    }
    res.end()
  })
  const source = `
    const { parentPort, workerData } = require('node:worker_threads')
    const { SSEClient } = require(workerData.entry)
    const sse = new SSEClient().create()
    for (let i = 0; i < 3; i++) sse.post({ url: workerData.url, onMessage() { parentPort.postMessage('message') } })
  `
  try {
    for (let i = 0; i < 12; i++) {
      const worker = new Worker(source, {
        eval: true,
        workerData: { url: srv.url, entry: new URL('../../index.js', import.meta.url).pathname },
      })
      await once(worker, 'message')
      await worker.terminate()
    }
    await srv.idle()
    // The main thread is unaffected.
    const got = collect(instance, { url: srv.url })
    assert.deepEqual(await got.done, { ok: true })
    assert.equal(got.messages.length, 100)
  } finally {
    await srv.close()
  }
})
