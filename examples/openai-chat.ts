// OpenAI-compatible chat streaming from TypeScript, with the async-iterator form.
//
//   node examples/openai-server.mjs & …   or any OpenAI-compatible server
//   npx tsc … examples/openai-chat.ts && node openai-chat.js http://127.0.0.1:8787/v1/ "Hello?"
// (__test__/examples.test.mjs compiles and runs it against the embedded demo server.)
import { SSEClient, type SseError } from 'native-sse'

interface ChatChunk {
  choices: { delta?: { content?: string }; finish_reason: string | null }[]
}

async function main(baseUrl: string, question: string): Promise<void> {
  const client = new SSEClient({ baseUrl, headers: { authorization: `Bearer ${process.env.API_KEY ?? 'demo-key'}` } })
  const sse = client.create()
  let tokens = 0
  try {
    const stream = sse.stream({
      url: 'chat/completions',
      body: { model: 'demo-1', stream: true, messages: [{ role: 'user', content: question }] },
      doneData: '[DONE]',
      timeout: 30_000,
    })
    for await (const { data } of stream) {
      const chunk = JSON.parse(data) as ChatChunk
      const token = chunk.choices[0]?.delta?.content
      if (token) {
        tokens++
        process.stdout.write(token)
      }
    }
    process.stdout.write(`\n[${tokens} tokens]\n`)
  } catch (err) {
    const e = err as SseError
    console.error(`${e.code}: ${e.message}`)
    process.exitCode = 1
  } finally {
    client.clear()
  }
}

void main(process.argv[2] ?? 'http://127.0.0.1:8787/v1/', process.argv[3] ?? 'What is native-sse?')
