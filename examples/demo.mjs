// npm run demo: starts the embedded OpenAI-compatible server on 127.0.0.1 and streams a chat
// completion through native-sse, printing tokens as they arrive. No network, no configuration.
import { SSEClient } from 'native-sse'
import { startOpenAIServer } from './openai-server.mjs'

const server = await startOpenAIServer()
const sseClient = new SSEClient({ baseUrl: server.url, headers: { authorization: 'Bearer demo-key' } })
const sse = sseClient.create()

const started = performance.now()
let tokens = 0
let firstTokenMs = 0
const req = sse.post({
  url: 'chat/completions',
  body: { model: 'demo-1', stream: true, messages: [{ role: 'user', content: 'What is native-sse?' }] },
  doneData: '[DONE]',
  onOpen({ status, headers }) {
    console.log(`connected: HTTP ${status}, ${headers['content-type']}\n`)
  },
  onMessage({ data }) {
    const content = JSON.parse(data).choices[0]?.delta?.content
    if (!content) return
    if (tokens++ === 0) firstTokenMs = performance.now() - started
    process.stdout.write(content)
  },
  onError(err) {
    console.error(`\n${err.code}: ${err.message}`)
  },
})

try {
  await req.done
  const totalMs = performance.now() - started
  console.log(`\n\n${tokens} tokens, first after ${firstTokenMs.toFixed(1)} ms, all in ${totalMs.toFixed(0)} ms`)
} catch {
  // onError printed it.
  process.exitCode = 1
} finally {
  sseClient.clear()
  await server.close()
}
