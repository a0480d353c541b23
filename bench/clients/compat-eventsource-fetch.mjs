// native-sse/eventsource with a custom fetch, as code written for the `eventsource` package sends a
// POST: the global fetch makes the request and the drop-in reads its body through the native parser
// (the bytes cross from JS into the binding once). Compare with compat-eventsource (the native
// transport) and eventsource (the package itself).
import { EventSource } from '../../lib/compat/eventsource.mjs'

export function createClient({ url }) {
  return {
    stream(body, sink) {
      const json = JSON.stringify(body)
      return new Promise((resolve, reject) => {
        const es = new EventSource(url, {
          fetch: (input, init) =>
            fetch(input, {
              ...init,
              method: 'POST',
              headers: { ...init.headers, 'content-type': 'application/json' },
              body: json,
            }),
        })
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
