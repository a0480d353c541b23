// native-sse reading an OpenAI-shaped stream for its content the usual way: JSON.parse of each
// event's data on the JS thread (what `select` replaces; bench/clients/native-select.mjs).
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
