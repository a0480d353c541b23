// The event-stream encoder: messages in, text of a valid `text/event-stream` out, such that a WHATWG
// parser ("Interpreting an event stream", HTML §9.2.6) reads back the same data, type, id and retry.
//
// Rules it follows, and why:
// - Every line of `data` becomes its own `data:` field. CRLF, a lone CR and a lone LF all end a line
//   for the parser, so all three are split on here (a CR written through as-is would cut the line on
//   the browser's side and lose the rest of it, the classic hand-written relay bug).
// - One space always follows the colon: the parser strips exactly one, so data whose line starts
//   with a space keeps it.
// - Only LF is written as a line end: a lone CR at the end of a network chunk is held back by some
//   parsers (eventsource-parser 3) until the next byte arrives.
// - `event` is left out when it is "message", the type the parser assumes when none is named.
// - An `id` or `event` containing CR or LF cannot be written (it would end the field and inject
//   others), and the parser ignores an id containing NUL: both are refused with a TypeError rather
//   than silently dropped, because a relay that drops an id breaks the browser's resume without a
//   trace. Upstream messages never contain them: the parser cannot produce such values.
// - The empty string as data is written as one empty `data:` field, but a WHATWG parser does not
//   dispatch an event whose data is empty, so such a message does not reach the browser (the same
//   is true of the upstream stream it came from).
'use strict'

const LINE_BREAK = /\r\n|\r|\n/

function fail(message) {
  throw new TypeError(`encodeEvent: ${message}`)
}

function dataLines(data) {
  // The common case (one line, e.g. an OpenAI JSON chunk) is one string concatenation.
  if (data.indexOf('\n') === -1 && data.indexOf('\r') === -1) return `data: ${data}\n`
  let text = ''
  for (const line of data.split(LINE_BREAK)) text += `data: ${line}\n`
  return text
}

function eventField(event) {
  if (event === undefined || event === null || event === 'message') return ''
  if (typeof event !== 'string') fail(`event must be a string, got ${typeof event}`)
  if (event.indexOf('\n') !== -1 || event.indexOf('\r') !== -1)
    fail(`event must not contain CR or LF: ${JSON.stringify(event)}`)
  return `event: ${event}\n`
}

function idField(id) {
  if (typeof id !== 'string') fail(`id must be a string, got ${typeof id}`)
  if (id.indexOf('\n') !== -1 || id.indexOf('\r') !== -1 || id.indexOf('\0') !== -1) {
    fail(`id must not contain CR, LF or NUL: ${JSON.stringify(id)}`)
  }
  return id === '' ? 'id:\n' : `id: ${id}\n`
}

function retryField(retry) {
  if (!Number.isSafeInteger(retry) || retry < 0) fail(`retry must be a non-negative integer (ms), got ${retry}`)
  return `retry: ${retry}\n`
}

/**
 * One message as the text of one event, blank line included.
 * `{ data, event?, id?, retry? }`: `data` a string (required); `event` left out when "message" or
 * absent; `id` written whenever it is a string (the empty string resets the browser's last event id);
 * `retry` a non-negative integer of ms. Throws a TypeError on values that cannot be encoded.
 */
function encodeEvent(msg) {
  if (msg === null || typeof msg !== 'object')
    fail(`the message must be an object, got ${msg === null ? 'null' : typeof msg}`)
  const { data, event, id, retry } = msg
  if (typeof data !== 'string') fail(`data must be a string, got ${data === null ? 'null' : typeof data}`)
  let text = eventField(event)
  if (id !== undefined && id !== null) text += idField(id)
  if (retry !== undefined && retry !== null) text += retryField(retry)
  return text + dataLines(data) + '\n'
}

/**
 * A comment block: every line of `text` as a `:` line, then a blank line. Parsers ignore it; it keeps
 * idle connections alive through proxies (a heartbeat). Comments are written only between events.
 */
function encodeComment(text = '') {
  if (typeof text !== 'string') throw new TypeError(`encodeComment: text must be a string, got ${typeof text}`)
  if (text === '') return ':\n\n'
  let out = ''
  for (const line of text.split(LINE_BREAK)) out += line === '' ? ':\n' : `: ${line}\n`
  return out + '\n'
}

/**
 * An encoder for one stream of `SseMessage`s (whose `id` is the last event id in force, repeated on
 * every message): it writes the `id` field only when the id in force changes, which is what the
 * upstream sent, instead of repeating it on every event. `initialId` is the id the reader already
 * holds (e.g. the browser's Last-Event-ID). Otherwise as `encodeEvent`.
 */
function createEncoder(initialId = '') {
  let lastId = initialId
  return function encode(msg) {
    if (msg === null || typeof msg !== 'object')
      fail(`the message must be an object, got ${msg === null ? 'null' : typeof msg}`)
    const { data, event, id, retry } = msg
    if (typeof data !== 'string') fail(`data must be a string, got ${data === null ? 'null' : typeof data}`)
    let text = eventField(event)
    if (id !== undefined && id !== null && id !== lastId) {
      text += idField(id)
      lastId = id
    }
    if (retry !== undefined && retry !== null) text += retryField(retry)
    return text + dataLines(data) + '\n'
  }
}

module.exports = { encodeEvent, encodeComment, createEncoder }
