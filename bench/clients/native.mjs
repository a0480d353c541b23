// native-sse: one SSEClient (one connection pool) and one instance for every stream, as an SSR
// server relaying many token streams would hold them.
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
        // A lost connection must show up as lost events, not be papered over by a retry.
        reconnectCount: 0,
        onMessage({ data }) {
          sink.data(data)
        },
      })
      // `done` rejects with the SseError of a failed request.
      return req.done
    },
    close() {
      client.clear()
    },
  }
}
