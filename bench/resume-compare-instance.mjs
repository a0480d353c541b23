// One server instance of an app that uses the `resumable-stream` package, run as its own Node process
// by bench/resume-compare.mjs (the counterpart of __test__/helpers/relay-instance.mjs). Its context
// uses two `redis` clients on the URL in argv[2] and `waitUntil: null` (a long-lived server). Routes,
// on a free loopback port:
//   POST /produce?id=ID&upstream=URL  createNewResumableStream(id, () => the upstream's body as text)
//   GET  /resume?id=ID&skip=N         resumeExistingStream(id, N): 404 for undefined, 422 for null
//                                     (as the package's README answers), 503 + the message when it
//                                     throws or rejects
// It prints `READY <port>` once listening.
import http from 'node:http'
import { createClient } from 'redis'
import { createResumableStreamContext } from 'resumable-stream'

const url = process.argv[2]
const publisher = createClient({ url })
const subscriber = createClient({ url })
// The context connects only clients it creates itself.
await Promise.all([publisher.connect(), subscriber.connect()])
const context = createResumableStreamContext({ waitUntil: null, publisher, subscriber })

/** The upstream's response body as a stream of strings, fetched on the first read. */
function upstreamText(upstream) {
  let reader
  return new ReadableStream({
    async pull(controller) {
      reader ??= (await fetch(upstream, { method: 'POST' })).body.pipeThrough(new TextDecoderStream()).getReader()
      const { done, value } = await reader.read()
      if (done) controller.close()
      else controller.enqueue(value)
    },
  })
}

/** Writes a stream of strings to `res` as an event stream; the client leaving cancels the reader. */
async function send(res, stream) {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  res.flushHeaders()
  const reader = stream.getReader()
  res.on('close', () => reader.cancel().catch(() => {}))
  for (;;) {
    const { done, value } = await reader.read()
    if (done || res.destroyed) break
    res.write(value)
  }
  res.end()
}

const server = http.createServer(async (req, res) => {
  const at = new URL(req.url, 'http://127.0.0.1')
  const id = at.searchParams.get('id')
  try {
    if (at.pathname === '/produce') {
      const upstream = at.searchParams.get('upstream')
      const stream = await context.createNewResumableStream(id, () => upstreamText(upstream))
      await send(res, stream)
    } else if (at.pathname === '/resume') {
      const skip = at.searchParams.get('skip')
      const stream = await context.resumeExistingStream(id, skip === null ? undefined : Number(skip))
      if (stream === undefined || stream === null) {
        res.statusCode = stream === undefined ? 404 : 422
        res.end(stream === undefined ? 'No such stream' : 'Stream is already done')
        return
      }
      await send(res, stream)
    } else {
      res.statusCode = 404
      res.end()
    }
  } catch (err) {
    if (!res.headersSent) {
      res.statusCode = 503
      res.end(String(err?.message ?? err))
    } else {
      res.destroy()
    }
  }
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`READY ${server.address().port}\n`))
process.on('SIGTERM', async () => {
  server.close()
  await Promise.allSettled([publisher.quit(), subscriber.quit()])
  process.exit(0)
})
