// Fastify: the relay writes to the raw Node response, `reply.raw`. `reply.hijack()` tells Fastify that
// the handler answers by itself (no serialisation, no second response). The page at `/` is
// examples/relay/index.html.
//
//   node examples/relay-fastify.mjs   (with the embedded OpenAI-compatible server; 127.0.0.1:3000)
import Fastify from 'fastify'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { SSEClient } from 'native-sse'

const page = new URL('relay/index.html', import.meta.url)

/** Starts the relay on 127.0.0.1 in front of `upstreamUrl` (ending in /v1/); resolves with { url, close() }. */
export async function start({ upstreamUrl, port = 0, apiKey = 'demo-key' }) {
  const sse = new SSEClient().create()
  const url = `${upstreamUrl}chat/completions`
  const headers = { authorization: `Bearer ${apiKey}` }

  const app = Fastify()
  app.get('/', async (req, reply) => reply.type('text/html').send(await readFile(page)))
  app.post('/chat', (req, reply) => {
    reply.hijack()
    sse.relay(reply.raw, { url, body: req.body, headers, doneData: '[DONE]' })
  })

  const address = await app.listen({ port, host: '127.0.0.1' })
  return {
    url: `${address}/`,
    async close() {
      sse.abortAll()
      app.server.closeAllConnections()
      await app.close()
    },
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { startOpenAIServer } = await import('./openai-server.mjs')
  const upstream = await startOpenAIServer({ tokenDelayMs: 40 })
  const relay = await start({ upstreamUrl: upstream.url, port: Number(process.env.PORT ?? 3000) })
  console.log(`Fastify relay on ${relay.url} (upstream ${upstream.url})`)
}
