// A small OpenAI-compatible chat-completions server that streams tokens as Server-Sent Events, for
// the demo, the examples and the benchmarks. It listens on 127.0.0.1 only and needs no network.
//
//   POST /v1/chat/completions  { model, messages, stream: true }  ->  data: {chat.completion.chunk}
//   ... data: [DONE]
import http from 'node:http'
import { once } from 'node:events'

const REPLY =
  'Server-Sent Events carry a stream of text events over one HTTP response. ' +
  'native-sse reads them in Rust, parses them by the WHATWG rules and hands them to JavaScript in batches, ' +
  'so a Node server can relay thousands of token streams at once.'

/** Splits text into word-sized tokens, as a language model streams them. */
export function tokenize(text) {
  return text.match(/\s*\S+/g) ?? []
}

function chunk(id, created, model, delta, finishReason = null) {
  return JSON.stringify({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, finish_reason: finishReason }],
  })
}

/**
 * Starts the server. `tokenDelayMs` paces the tokens (0: as fast as the socket takes them).
 * Resolves with { url, close() }, where url is the base ending in /v1/.
 */
export async function startOpenAIServer({ port = 0, tokenDelayMs = 15, reply = REPLY } = {}) {
  const sockets = new Set()
  const server = http.createServer(async (req, res) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: `no route for ${req.method} ${req.url}` } }))
      return
    }
    let raw = ''
    for await (const part of req) raw += part
    let request
    try {
      request = JSON.parse(raw)
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { message: 'body is not JSON' } }))
      return
    }
    const model = request.model ?? 'demo-1'
    const question = request.messages?.at(-1)?.content ?? ''
    const text = question ? `You asked: "${question}". ${reply}` : reply
    const id = `chatcmpl-${Date.now().toString(36)}`
    const created = Math.floor(Date.now() / 1000)
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    res.write(`data: ${chunk(id, created, model, { role: 'assistant', content: '' })}\n\n`)
    for (const token of tokenize(text)) {
      if (res.destroyed) return
      res.write(`data: ${chunk(id, created, model, { content: token })}\n\n`)
      if (tokenDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, tokenDelayMs))
    }
    res.write(`data: ${chunk(id, created, model, {}, 'stop')}\n\n`)
    res.end('data: [DONE]\n\n')
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}/v1/`,
    server,
    async close() {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
