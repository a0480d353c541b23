// native-sse/fetch-event-source with a custom fetch (a wrapper over the global one, as code that
// refreshes a token or signs requests passes): the request is the fetch's, the body goes through the
// native parser. Compare with compat-fes (the native client) and fes (the package itself).
import { fetchEventSource } from '../../lib/compat/fetch-event-source.mjs'

export function createClient({ url }) {
  return {
    async stream(body, sink) {
      let done = false
      await fetchEventSource(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        openWhenHidden: true,
        fetch: (input, init) => fetch(input, init),
        onmessage(event) {
          if (event.data === '[DONE]') done = true
          else if (!done) sink.data(event.data)
        },
        // Its default is to retry forever; a failure must end the stream and be counted.
        onerror(err) {
          throw err
        },
      })
      if (!done) throw new Error('the stream ended without [DONE]')
    },
    close() {},
  }
}
