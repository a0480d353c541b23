// Issue 10: msg.retry is the value the server sent, exactly, up to Number.MAX_SAFE_INTEGER (the
// core holds larger values at it); the wait itself is capped at 60 s. The core side is done
// (parser.rs MAX_RETRY_FIELD), and the record encoder (src/records.rs) carries it as two u32 halves.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startServer, collect, sse } from '../helpers/server.mjs'

test('msg.retry reports the retry field as sent, up to Number.MAX_SAFE_INTEGER', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'retry: 1000000000000000\ndata: a\n\nretry: 99999999999999999999\ndata: b\n\nretry: 2500\ndata: c\n\n'),
  )
  try {
    const got = collect(new SSEClient().create(), { url: srv.url, reconnectCount: 0 })
    assert.deepEqual(await got.done, { ok: true })
    assert.deepEqual(
      got.messages.map((m) => m.retry),
      [1e15, Number.MAX_SAFE_INTEGER, 2500],
    )
  } finally {
    await srv.close()
  }
})
