// native-sse reading an OpenAI-shaped stream for its content with `select` and `coalesce: 16`: the
// pointer is evaluated on the reader thread, and the JS thread is woken at most once per 16 ms for
// these streams, with every event that arrived meanwhile (not once per network read).
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
        coalesce: 16,
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
