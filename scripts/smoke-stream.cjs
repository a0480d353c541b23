// The smallest end-to-end check of an installed copy of the package, for runtimes that run nothing
// else of the repository (an arm64 Node under qemu-user, a musl Node): load the package from the
// folder given, serve one event from a local server in this same process, POST to it, and exit 0
// only if the event arrived and the request ended cleanly. CommonJS and nothing newer than Node 18,
// so it runs on whichever Node a distribution ships.
//
//   node scripts/smoke-stream.cjs path/to/package
'use strict'
const http = require('node:http')
const path = require('node:path')

const dir = path.resolve(process.argv[2] || '.')
const started = Date.now()
const { SSEClient } = require(dir)
const loadedMs = Date.now() - started
const addon = Object.keys(require.cache).find((file) => file.endsWith('.node'))

const server = http.createServer((req, res) => {
  let body = ''
  req.on('data', (chunk) => (body += chunk))
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end(`id: 1\ndata: ${JSON.stringify({ echo: JSON.parse(body).prompt })}\n\n`)
  })
})

const fail = (why) => {
  console.error(`smoke: FAILED: ${why}`)
  process.exit(1)
}
// Under emulation everything is slow; a hang still has to end the run.
const guard = setTimeout(() => fail('no result after 120 s'), 120_000)

server.listen(0, '127.0.0.1', () => {
  const messages = []
  const request = new SSEClient().create().post({
    url: `http://127.0.0.1:${server.address().port}/`,
    body: { prompt: 'hello' },
    onMessage: (msg) => messages.push(msg),
  })
  request.done.then(
    (how) => {
      clearTimeout(guard)
      server.close()
      if (messages.length !== 1 || messages[0].data !== '{"echo":"hello"}' || messages[0].id !== '1') {
        fail(`expected one event {"echo":"hello"} with id 1, got ${JSON.stringify(messages)}`)
      }
      const where = `${process.platform}-${process.arch} node ${process.version}`
      console.log(
        `smoke: ok on ${where}: ${path.basename(addon || '?')} loaded in ${loadedMs} ms, ` +
          `one event streamed, done = ${JSON.stringify(how)}, ${Date.now() - started} ms in all`,
      )
    },
    (err) => fail(`request failed: ${err && err.code} ${err && err.message}`),
  )
})
