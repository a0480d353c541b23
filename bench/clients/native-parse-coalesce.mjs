// native-sse reading an OpenAI-shaped stream for its content with JSON.parse of each event's data on
// the JS thread, with `coalesce: 16` (fewer wake-ups, the same parse): what `select` is compared with
// once the wake-ups are gone from both.
import { SSEClient } from '../../index.mjs'

export function createClient({ url }) {
  const client = new SSEClient()
  const sse = client.create()
  return {
    stream(body, sink) {
      const req = sse.post({
        url,
        body,
        doneData: '[DONE]',
        reconnectCount: 0,
        coalesce: 16,
        onMessage({ data }) {
          const token = JSON.parse(data).choices[0]?.delta?.content
          if (token) sink.data(token)
        },
      })
      return req.done
    },
    close() {
      client.clear()
    },
  }
}
