import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'

const EVENTS = 200

function startCounter() {
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    for (let i = 0; i < EVENTS; i++) res.write(`id: ${i}\ndata: ${i}\n\n`)
    res.end()
  })
  server.listen(0, '127.0.0.1')
  return once(server, 'listening').then(() => ({ server, url: `http://127.0.0.1:${server.address().port}/` }))
}

const workerSource = `
const { parentPort, workerData } = require('node:worker_threads')
const { SSEClient } = require(workerData.entry)
const sse = new SSEClient().create()
let count = 0
const req = sse.post({ url: workerData.url, reconnectCount: 0, onMessage() { count++ } })
req.done.then(() => parentPort.postMessage({ count }), (err) => parentPort.postMessage({ error: err.code }))
`

function runWorker(url) {
  const worker = new Worker(workerSource, {
    eval: true,
    workerData: { url, entry: new URL('../../index.js', import.meta.url).pathname },
  })
  return once(worker, 'message').then(([msg]) => msg)
}

test('streams in several worker threads and the main thread at the same time', async () => {
  const { server, url } = await startCounter()
  try {
    let mainCount = 0
    const main = new SSEClient().create().post({ url, reconnectCount: 0, onMessage: () => mainCount++ })
    const results = await Promise.all([runWorker(url), runWorker(url), runWorker(url), main.done])
    assert.deepEqual(results.slice(0, 3), [{ count: EVENTS }, { count: EVENTS }, { count: EVENTS }])
    assert.equal(mainCount, EVENTS)
  } finally {
    server.close()
  }
})

test('terminating a worker with an open stream aborts it and leaves the main thread working', async () => {
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: first\n\n')
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = `http://127.0.0.1:${server.address().port}/`
  try {
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads')
       const { SSEClient } = require(workerData.entry)
       new SSEClient().create().post({ url: workerData.url, onMessage() { parentPort.postMessage('event') } })`,
      { eval: true, workerData: { url, entry: new URL('../../index.js', import.meta.url).pathname } },
    )
    await once(worker, 'message')
    assert.equal(sockets.size, 1)
    const closed = once([...sockets][0], 'close')
    await worker.terminate()
    await closed
    const { server: counter, url: counterUrl } = await startCounter()
    let count = 0
    await new SSEClient()
      .create()
      .post({ url: counterUrl, onMessage: () => count++ })
      .done.finally(() => counter.close())
    assert.equal(count, EVENTS)
  } finally {
    for (const s of sockets) s.destroy()
    server.close()
  }
})
