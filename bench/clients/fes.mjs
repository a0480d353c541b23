// @microsoft/fetch-event-source. It is written for browsers: it reads `window.setTimeout`,
// `window.clearTimeout` and `document` (even with openWhenHidden it calls
// document.removeEventListener when it finishes), so this child process gets the smallest shims
// that make it run. Each client runs in its own process, so the shims touch no other client.
import { fetchEventSource } from '@microsoft/fetch-event-source'

globalThis.window ??= globalThis
globalThis.document ??= { hidden: false, addEventListener() {}, removeEventListener() {} }

export function createClient({ url }) {
  return {
    async stream(body, sink) {
      let done = false
      await fetchEventSource(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
        fetch: globalThis.fetch,
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
