// native-sse/fetch-event-source: the @microsoft/fetch-event-source drop-in over the native client,
// with the same options as bench/clients/fes.mjs minus the window/document shims and the fetch.
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
