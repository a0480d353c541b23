// One "server instance" of an SSR app for the resumable-relay tests, run as its own Node process:
// its own SSEClient on the store given in argv[2] (a JSON store option), an HTTP server on a free
// loopback port, and these routes:
//   POST /produce?id=ID&upstream=URL   relay(res, { url: upstream, resumable: { id } }); 503 + the
//                                      error's code as the body when the store refuses
//   GET  /resume?id=ID[&lastEventId=]  client.resume(res, { id }) (Last-Event-ID from the header,
//                                      else from the query, for a page's first EventSource)
//   POST /stop?id=ID                   client.stop(id), answered as JSON
//   POST /cut                          destroys the connections of the /produce requests in flight
//                                      (a browser's network dropping), answered 204
// Every response allows any origin, so that a page served elsewhere can read it. It prints
// `READY <port>` once listening and closes its client on SIGTERM.
import http from 'node:http'
import { SSEClient } from '../../index.mjs'

const store = JSON.parse(process.argv[2])
const client = new SSEClient({ store })
const sse = client.create()

// The sockets of the /produce requests in flight, for /cut.
const producing = new Set()

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, 'http://127.0.0.1')
  const id = url.searchParams.get('id')
  res.setHeader('access-control-allow-origin', '*')
  try {
    if (url.pathname === '/produce') {
      producing.add(req.socket)
      res.on('close', () => producing.delete(req.socket))
      await sse.relay(res, { url: url.searchParams.get('upstream'), resumable: { id }, heartbeat: false })
    } else if (url.pathname === '/resume') {
      const lastEventId = req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? undefined
      await client.resume(res, { id, lastEventId, heartbeat: false })
    } else if (url.pathname === '/cut') {
      for (const socket of producing) socket.destroy()
      res.statusCode = 204
      res.end()
    } else if (url.pathname === '/stop') {
      const stopped = await client.stop(id)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ stopped }))
    } else {
      res.statusCode = 404
      res.end()
    }
  } catch (err) {
    if (!res.headersSent) {
      res.statusCode = 503
      res.end(String(err?.code ?? err))
    }
  }
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`))
process.on('SIGTERM', async () => {
  server.close()
  await client.close()
  process.exit(0)
})
