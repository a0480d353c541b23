// An SSR-style relay in TypeScript: a Node HTTP server that takes a browser's chat request, streams
// the completion from an OpenAI-compatible upstream with native-sse, and forwards every token to the
// browser as its own Server-Sent Events. When the browser goes away, the upstream request is aborted.
//
//   UPSTREAM=http://127.0.0.1:8787/v1/ node --experimental-strip-types examples/chat.ts
// (type-checked by `npm test`; the same code works unchanged in Express, Fastify or a Next route.)
import http from 'node:http'
import { SSEClient, type SseError, type SseMessage } from 'native-sse'

interface ChatChunk {
  choices: { delta?: { content?: string }; finish_reason: string | null }[]
}

const upstream = new SSEClient({
  baseUrl: process.env.UPSTREAM ?? 'http://127.0.0.1:8787/v1/',
  headers: { authorization: `Bearer ${process.env.API_KEY ?? 'demo-key'}` },
  timeout: 30_000,
  reconnectCount: 5,
})
const sse = upstream.create()

export const server = http.createServer(async (req, res) => {
  if (req.method !== 'POST' || req.url !== '/chat') {
    res.writeHead(404).end()
    return
  }
  let body = ''
  for await (const part of req) body += part
  let question: string | undefined
  try {
    question = (JSON.parse(body || '{}') as { question?: string }).question
  } catch {
    res.writeHead(400, { 'content-type': 'text/plain' }).end('body must be JSON: { "question": "…" }')
    return
  }

  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
  const request = sse.post({
    url: 'chat/completions',
    body: { model: 'demo-1', stream: true, messages: [{ role: 'user', content: question ?? 'hello' }] },
    doneData: '[DONE]',
    onMessage({ data }: SseMessage) {
      const token = (JSON.parse(data) as ChatChunk).choices[0]?.delta?.content
      if (token) res.write(`data: ${JSON.stringify({ token })}\n\n`)
    },
    onError(err: SseError) {
      if (!err.willRetry)
        res.write(`event: error\ndata: ${JSON.stringify({ code: err.code, message: err.message })}\n\n`)
    },
  })
  // The browser left: stop paying for tokens nobody reads.
  res.on('close', () => request.abort())
  await request.done.catch(() => {})
  if (!res.destroyed) res.end('event: end\ndata: {}\n\n')
})

if (process.argv[1]?.endsWith('chat.ts')) {
  server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
    console.log('relay listening on http://127.0.0.1:%d/chat', Number(process.env.PORT ?? 3000))
  })
}
