// What the native-sse clients of the benchmark share: one SSEClient (one connection pool) and one
// instance for every stream, as an SSR server relaying many token streams would hold them. Each
// client file gives its extra request options and its onMessage (not a client itself: run.mjs lists
// the clients by name).
import { SSEClient } from '../../index.mjs'

/**
 * `options`: request options beyond the common ones; `handler(sink)`: the stream's onMessage, made
 * once per stream so that the per-event call is the same as written inline.
 */
export function nativeClient({ url }, options, handler) {
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
        ...options,
        onMessage: handler(sink),
      })
      // `done` rejects with the SseError of a failed request.
      return req.done
    },
    close() {
      client.clear()
    },
  }
}

/** onMessage that hands the data on as it is. */
export const forward =
  (sink) =>
  ({ data }) =>
    sink.data(data)

/** onMessage that parses each event's JSON on the JS thread for its content (what `select` replaces). */
export const parseContent =
  (sink) =>
  ({ data }) => {
    const token = JSON.parse(data).choices[0]?.delta?.content
    if (token) sink.data(token)
  }

/** The request options of `select` for an OpenAI chat chunk's content. */
export const SELECT_CONTENT = { select: '/choices/0/delta/content', selectMissing: 'drop' }
