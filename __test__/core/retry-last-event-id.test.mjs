// Issue 10: an id the server sent with a control character cannot be sent back as Last-Event-ID.
// Reconnecting without it would restart the stream and repeat events silently; instead the request
// ends with the error that would have caused the reconnect, saying why.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { SSEClient } from '../../index.mjs'
import { startRawServer, collect, SSE_HEAD } from '../helpers/server.mjs'

test('a server id with a control character ends the request instead of a reconnect that repeats events', async () => {
  let got = null
  const srv = await startRawServer((socket) => {
    // Bound the old behaviour (reconnects without the id, the same event again and again).
    if (srv.connections > 5) {
      got.req.abort()
      socket.destroy()
      return
    }
    socket.write(SSE_HEAD + 'id: 7\u0001a\ndata: once\n\n')
    // A reset, not a FIN: with `connection: close` a FIN is the clean end of the body.
    setTimeout(() => socket.resetAndDestroy(), 5)
  })
  try {
    got = collect(new SSEClient().create(), { url: srv.url, retryDelay: 1 })
    const { ok, error } = await got.done
    assert.equal(ok, false)
    assert.equal(error.code, 'NETWORK')
    assert.match(error.message, /not reconnecting: the server's last event id contains the control character U\+0001/)
    assert.equal(srv.connections, 1)
    assert.deepEqual(
      got.messages.map((m) => [m.data, m.id]),
      [['once', '7\u0001a']],
    )
    assert.deepEqual(
      got.errors.map((e) => e.willRetry),
      [false],
    )
  } finally {
    await srv.close()
  }
})
