// Event-stream text on the test side: a reference parser (eventsource-parser, a different
// implementation from ours) and a chunked response cut off mid-stream.
import { createParser } from 'eventsource-parser'

/**
 * An incremental parser (`feed(text)`) that calls `onMessage` with { data, event, id (in force),
 * retry? }, the shape of an SseMessage, and `onComment(text)` for comment lines.
 */
export function messageParser(onMessage, onComment) {
  let lastId = ''
  let retry
  return createParser({
    onEvent(e) {
      if (e.id !== undefined) lastId = e.id
      const msg = { data: e.data, event: e.event ?? 'message', id: lastId }
      if (retry !== undefined) msg.retry = retry
      retry = undefined
      onMessage(msg)
    },
    onRetry(ms) {
      retry = ms
    },
    onComment,
  })
}

/**
 * Parses `text` fed in pieces cut at `cuts`; returns [{ data, event, id (in force), retry? }], the
 * shape of an SseMessage.
 */
export function parseEventStream(text, cuts = []) {
  const out = []
  const parser = messageParser((msg) => out.push(msg))
  let at = 0
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.feed(text.slice(at, cut))
    at = cut
  }
  parser.feed(text.slice(at))
  return out
}

export const CHUNKED_HEAD = 'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n'
/** One chunk of a chunked body. */
export const chunk = (text) => `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n`

/** Sends `text` as the start of a chunked body, then drops the connection (no terminating chunk). */
export function dropAfter(socket, text) {
  socket.write(CHUNKED_HEAD + chunk(text), () => socket.destroy())
}
