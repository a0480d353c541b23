// The `eventsource` package (v3+ takes a custom fetch, which is how it does a POST). It has no
// notion of a final [DONE] event: the stream is closed from onmessage, or it would reconnect when
// the server ends the response.
import { EventSource } from 'eventsource'

export function createClient({ url }) {
  return {
    stream(body, sink) {
      const json = JSON.stringify(body)
      const post = (input, init) =>
        fetch(input, {
          ...init,
          method: 'POST',
          body: json,
          headers: { ...init.headers, 'content-type': 'application/json' },
        })
      return new Promise((resolve, reject) => {
        const es = new EventSource(url, { fetch: post })
        es.onmessage = (event) => {
          if (event.data === '[DONE]') {
            es.close()
            resolve()
          } else {
            sink.data(event.data)
          }
        }
        es.onerror = (event) => {
          es.close()
          reject(new Error(`eventsource error: ${event.message ?? event.code ?? 'unknown'}`))
        }
      })
    },
    close() {},
  }
}
