// native-sse reading an OpenAI-shaped stream for its content with `select`: the pointer is
// evaluated on the reader thread and onMessage gets the token text (no JSON on the JS thread).
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
        select: '/choices/0/delta/content',
        selectMissing: 'drop',
        onMessage({ data }) {
          sink.data(data)
        },
      })
      return req.done
    },
    close() {
      client.clear()
    },
  }
}
