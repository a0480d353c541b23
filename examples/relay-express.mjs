// Express: `sse.relay(res, options)` streams an OpenAI-compatible completion to the browser as an event
// stream (headers at once, heartbeats, the browser leaving aborts the upstream, `event: error` on a
// failure). The page at `/` is examples/relay/index.html.
//
//   node examples/relay-express.mjs   (with the embedded OpenAI-compatible server; 127.0.0.1:3000)
import express from 'express'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { SSEClient } from 'native-sse'

const page = fileURLToPath(new URL('relay/index.html', import.meta.url))

/** Starts the relay on 127.0.0.1 in front of `upstreamUrl` (ending in /v1/); resolves with { url, close() }. */
export async function start({ upstreamUrl, port = 0, apiKey = 'demo-key' }) {
  const sse = new SSEClient().create()
  const url = `${upstreamUrl}chat/completions`
  const headers = { authorization: `Bearer ${apiKey}` }

  const app = express()
  app.use(express.json())
  app.get('/', (req, res) => res.sendFile(page))
  app.post('/chat', (req, res) => sse.relay(res, { url, body: req.body, headers, doneData: '[DONE]' }))

  const server = app.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    async close() {
      sse.abortAll()
      server.closeAllConnections()
      server.close()
      await once(server, 'close')
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startOpenAIServer } = await import('./openai-server.mjs')
  const upstream = await startOpenAIServer({ tokenDelayMs: 40 })
  const relay = await start({ upstreamUrl: upstream.url, port: Number(process.env.PORT ?? 3000) })
  console.log(`Express relay on ${relay.url} (upstream ${upstream.url})`)
}
