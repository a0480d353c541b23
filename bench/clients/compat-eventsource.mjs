// native-sse/eventsource: the WHATWG EventSource drop-in over the native client, used as code
// written for the `eventsource` package would be after the import swap (init.method/headers/body
// instead of a custom fetch). Like that package it has no notion of a final [DONE] event: the stream
// is closed from onmessage, or it would reconnect when the server ends the response.
import { EventSource } from '../../lib/compat/eventsource.mjs'

export function createClient({ url }) {
  return {
    stream(body, sink) {
      const json = JSON.stringify(body)
      return new Promise((resolve, reject) => {
        const es = new EventSource(url, {
          method: 'POST',
          body: json,
          headers: { 'content-type': 'application/json' },
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
