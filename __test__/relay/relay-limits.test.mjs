// A relayed event whose event-stream text cannot become one JS string (V8's longest string is
// 2^29 - 24 UTF-16 units): relay() re-encodes each data line as its own `data:` field, so an event
// of N empty data lines, within maxEventSize, becomes about 7N characters. It must fail that request
// with EVENT_TOO_LARGE and the terminal error event, and keep what came before it.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { SSEClient } from '../../index.mjs'
import { startServer } from '../helpers/server.mjs'
import { downstream, startHttp } from '../helpers/relay.mjs'

// 1 Mi empty data lines per write, 82 writes: 82 MiB of data (one LF per line), under the
// maxEventSize below, and about 574 M characters once re-encoded as `data: \n` lines.
const LINES = Buffer.alloc(5 << 20, 'data\n')
const WRITES = 82

test('a relayed event too large for a JS string fails with EVENT_TOO_LARGE and the error event; earlier events arrive', async () => {
  const upstream = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: before\n\n')
    for (let i = 0; i < WRITES; i++) {
      if (!res.write(LINES)) await Promise.race([once(res, 'drain'), once(res, 'close')])
      if (res.destroyed) return
    }
    res.end('\ndata: after\n\n')
  })
  const client = new SSEClient()
  const sse = client.create()
  const handles = []
  const relay = await startHttp((req, res) => {
    handles.push(sse.relay(res, { url: upstream.url, maxEventSize: 100 << 20, reconnectCount: 0 }))
  })
  try {
    const down = downstream(relay.url)
    await down.until((c) => c.ended)
    assert.equal(await handles[0].done, 'error')
    assert.equal(handles[0].error.code, 'EVENT_TOO_LARGE')
    assert.match(handles[0].error.message, /JS string/)
    assert.deepEqual(
      down.events.map((e) => e.data),
      ['before', JSON.stringify({ code: 'EVENT_TOO_LARGE', message: handles[0].error.message })],
    )
    assert.equal(down.events[1].event, 'error')
  } finally {
    client.clear()
    await relay.close()
    await upstream.close()
  }
})
