// Hono on @hono/node-server (the same handler runs on Bun, Deno and edge runtimes that have the addon):
// a web-standard handler returns `sse.stream(...).toResponse()`. The request's signal, or the
// response body being cancelled when the browser leaves, aborts the upstream. The page at `/` is
// examples/relay/index.html.
//
//   node examples/relay-hono.mjs   (with the embedded OpenAI-compatible server; 127.0.0.1:3000)
import { Hono } from 'hono'
import { serve } from '@hono/node-server'
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { SSEClient } from 'native-sse'

const page = new URL('relay/index.html', import.meta.url)

/** Starts the relay on 127.0.0.1 in front of `upstreamUrl` (ending in /v1/); resolves with { url, close() }. */
export async function start({ upstreamUrl, port = 0, apiKey = 'demo-key' }) {
  const sse = new SSEClient().create()
  const url = `${upstreamUrl}chat/completions`
  const headers = { authorization: `Bearer ${apiKey}` }

  const app = new Hono()
  app.get('/', async (c) => c.html(await readFile(page, 'utf8')))
  app.post('/chat', async (c) =>
    sse.stream({ url, body: await c.req.json(), headers, doneData: '[DONE]', signal: c.req.raw.signal }).toResponse(),
  )

  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' })
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
  console.log(`Hono relay on ${relay.url} (upstream ${upstream.url})`)
}
