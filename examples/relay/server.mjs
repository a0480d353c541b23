// An SSR relay in Express: the page at `/` POSTs a question to `/chat`; `sse.relay()` streams the
// completion from an OpenAI-compatible upstream and forwards every token to the browser as its own
// Server-Sent Event (a transform picks the token out of each chunk), then `event: end`. When the
// browser goes away, the relay aborts the upstream request; a failure reaches the page as `event: error`.
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
    stats.opened++
    const relayed = sse.relay(res, {
      url: 'chat/completions',
      body: req.body,
      doneData: '[DONE]',
      // Pick the token out of each chunk (drop the chunks without one); the page gets `{ token }`.
      transform({ data }) {
        const token = JSON.parse(data).choices[0]?.delta?.content
        return token ? { data: JSON.stringify({ token }) } : null
      },
      endEvent: { event: 'end', data: '{}' },
    })
    // 'closed': the browser left first, and the relay aborted the upstream request.
    relayed.done.then((how) => {
      if (how === 'closed') stats.aborted++
      else if (how === 'error') stats.failed++
      else stats.completed++
    })
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
