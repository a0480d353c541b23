// Node's built-in fetch (undici) with eventsource-parser, the usual hand-rolled way to read an
// OpenAI-style stream in Node.
import { createParser } from 'eventsource-parser'

export function createClient({ url }) {
  return {
    async stream(body, sink) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify(body),
      })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      let done = false
      const parser = createParser({
        onEvent(event) {
          if (event.data === '[DONE]') done = true
          else if (!done) sink.data(event.data)
        },
      })
      const decoder = new TextDecoder()
      // Read to the end rather than cancel at [DONE] (the server ends the body right after it), so
      // that undici can reuse the connection, as it would for a well-behaved API.
      for await (const chunk of res.body) parser.feed(decoder.decode(chunk, { stream: true }))
      if (!done) throw new Error('the stream ended without [DONE]')
    },
    close() {},
  }
}
