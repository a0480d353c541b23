// An SSR relay in Express: the page at `/` POSTs a question to `/chat`; the relay streams the completion
// from an OpenAI-compatible upstream with native-sse and forwards every token to the browser as its own
// Server-Sent Event, then `event: end`. When the browser goes away, the upstream request is aborted.
//
//   node examples/relay/server.mjs   (starts the embedded OpenAI-compatible server too; 127.0.0.1 only)
import express from 'express'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { SSEClient } from 'native-sse'

const indexHtml = fileURLToPath(new URL('index.html', import.meta.url))

/**
 * Starts the relay on 127.0.0.1. `upstreamUrl` is the OpenAI-compatible base ending in /v1/.
 * Resolves with { url, close(), stats }; stats counts upstream requests opened, aborted (the browser
 * left first), completed and failed.
 */
export async function startRelay({ upstreamUrl, port = 0, apiKey = 'demo-key' }) {
  // One client is one connection pool, shared by every browser request.
  const client = new SSEClient({ baseUrl: upstreamUrl, headers: { authorization: `Bearer ${apiKey}` } })
  const sse = client.create()
  const stats = { opened: 0, aborted: 0, completed: 0, failed: 0 }

  const app = express()
  app.get('/', (req, res) => res.sendFile(indexHtml))
  app.post('/chat', express.json(), (req, res) => {
    const question = typeof req.body?.question === 'string' && req.body.question.trim() ? req.body.question : 'hello'
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    // Without this the headers wait for the first token, and the browser's fetch() with them.
    res.flushHeaders()
    const send = (text) => {
      if (!res.writableEnded && !res.destroyed) res.write(text)
    }

    let settled = false
    stats.opened++
    const upstream = sse.post({
      url: 'chat/completions',
      body: { model: 'demo-1', stream: true, messages: [{ role: 'user', content: question }] },
      doneData: '[DONE]',
      onMessage({ data }) {
        const token = JSON.parse(data).choices[0]?.delta?.content
        if (token) send(`data: ${JSON.stringify({ token })}\n\n`)
      },
      onError(err) {
        if (!err.willRetry) send(`event: error\ndata: ${JSON.stringify({ code: err.code, message: err.message })}\n\n`)
      },
    })
    // 'close' also fires after a normal end, so only a close before the upstream settled is the
    // browser leaving: then stop paying for tokens nobody reads.
    res.on('close', () => {
      if (settled) return
      settled = true
      stats.aborted++
      upstream.abort()
    })
    // abort() resolves `done` too; `settled` keeps that from counting as a completion.
    upstream.done.then(
      () => {
        if (settled) return
        settled = true
        stats.completed++
        res.end('event: end\ndata: {}\n\n')
      },
      () => {
        if (settled) return
        settled = true
        stats.failed++
        res.end()
      },
    )
  })

  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    stats,
    async close() {
      client.clear()
      // Open event streams would keep close() waiting forever.
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startOpenAIServer } = await import('../openai-server.mjs')
  const upstream = await startOpenAIServer({ tokenDelayMs: 40 })
  const relay = await startRelay({ upstreamUrl: upstream.url, port: Number(process.env.PORT ?? 3000) })
  console.log(`relay listening on ${relay.url} (upstream ${upstream.url})`)
  const stop = async () => {
    await relay.close()
    await upstream.close()
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}
