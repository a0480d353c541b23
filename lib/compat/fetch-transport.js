'use strict'
// The drop-ins' path for a user's own `fetch` (EventSource's `init.fetch`, fetchEventSource's
// `fetch`): the user's function makes the request, and the bytes of the Response body it returns go
// through the native parser (`EventStreamParser`), so events parse exactly as on the native
// transport. The cost is that every chunk of the body crosses from JS into the binding once, and
// its events come back as one string plus a Uint32Array per chunk (the records of src/records.rs).
//
// A `FetchAttempt` is one call of the user's fetch and the read of its body, shaped like a native
// request for the drop-ins: `abort()` (no callback runs after it returns), and `done`, which
// resolves when the body ends or the attempt was aborted, and rejects with what went wrong: what
// the fetch threw or rejected with, a TypeError for an answer that is not a Response, or what the
// body's reader rejected with. Status and content-type are the drop-in's to judge, in onResponse.

// The record kinds EventStreamParser emits come from the binding (src/records.rs has the table).
const {
  EventStreamParser,
  KIND_MESSAGE: MESSAGE,
  KIND_FAIL: FAIL,
  KIND_ID: ID,
  NONE,
} = require('../internal/binding.js')
const { fromRecord } = require('../errors.js')

const noop = () => {}

/** True when `fetch` is the user's own function; the global fetch passed by habit is not. */
function isCustomFetch(fetch) {
  return fetch != null && fetch !== globalThis.fetch
}

/** True when `response.body` can be read as a web stream (what both original packages require). */
function hasReadableBody(response) {
  const body = response?.body
  return typeof body === 'object' && body !== null && typeof body.getReader === 'function'
}

/** A body chunk as bytes: fetch gives Uint8Array; an ArrayBuffer or another view is accepted too. */
function toBytes(value) {
  if (value instanceof Uint8Array) return value
  if (value instanceof ArrayBuffer) return new Uint8Array(value)
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  throw new TypeError(`the response body gave a chunk that is not bytes (${typeof value}), expected a Uint8Array`)
}

/** Meta words a parser's array starts with, and the size above which it shrinks back after a burst. */
const FIRST_WORDS = 64
const KEEP_WORDS = 4096

/**
 * An EventStreamParser with the decoder state of its records: one per stream of ids (an
 * EventSource keeps one for its whole life, reset() per connection; fetchEventSource one per
 * attempt, as its native requests do).
 */
class RecordParser {
  constructor(maxEventSize) {
    this.native = new EventStreamParser(maxEventSize)
    // The id of the last record: a MESSAGE record's id NONE means "unchanged since then".
    this.lastEventId = ''
    // Where the native parser writes each chunk's record meta: its length, then the records.
    this.words = new Uint32Array(FIRST_WORDS)
  }

  reset() {
    this.native.reset()
  }

  get retry() {
    return this.native.retry ?? undefined
  }

  /**
   * Parses one chunk, calling `onMessage({ data, event, id, retry? })` per event while `live()`.
   * Throws the SseError of an event over maxEventSize, after the events before it.
   */
  feed(bytes, onMessage, live) {
    let meta = this.words
    const text = this.native.feed(bytes, meta)
    if (text === null) return
    const n = meta[0] + 1
    if (n > meta.length) {
      // The records did not fit: a larger array, kept for the chunks that follow.
      this.words = meta = new Uint32Array(2 ** Math.ceil(Math.log2(n)))
      this.native.takeMeta(meta)
    } else if (meta.length > KEEP_WORDS && n <= FIRST_WORDS) {
      // Back to a small array after a burst (this chunk still reads the large one).
      this.words = new Uint32Array(FIRST_WORDS)
    }
    let i = 1
    let pos = 0
    while (i < n) {
      const kind = meta[i]
      if (kind === MESSAGE) {
        const dataLen = meta[i + 2]
        const eventLen = meta[i + 3]
        const idLen = meta[i + 4]
        const retryHigh = meta[i + 5]
        const retryLow = meta[i + 6]
        i += 7
        const data = text.slice(pos, pos + dataLen)
        pos += dataLen
        let event = 'message'
        if (eventLen !== NONE) {
          event = text.slice(pos, pos + eventLen)
          pos += eventLen
        }
        if (idLen !== NONE) {
          this.lastEventId = text.slice(pos, pos + idLen)
          pos += idLen
        }
        if (!live()) continue
        const id = this.lastEventId
        onMessage(
          retryHigh === NONE ? { data, event, id } : { data, event, id, retry: retryHigh * 0x100000000 + retryLow },
        )
      } else {
        const len = meta[i + 2]
        i += 3
        const value = text.slice(pos, pos + len)
        pos += len
        if (kind === ID) this.lastEventId = value
        else if (kind === FAIL) throw fromRecord(JSON.parse(value))
      }
    }
  }
}

/**
 * An error's message for an `error` event: the messages of an AggregateError's errors, and the
 * chain of causes (undici's "fetch failed" says nothing without its cause).
 */
function describeError(err) {
  if (!(err instanceof Error)) return String(err)
  if (Array.isArray(err.errors) && err.errors.length > 0) return err.errors.map(describeError).join(', ')
  if (err.cause instanceof Error) return `${err.message}: ${describeError(err.cause)}`
  return err.message
}

/** Cancels a body or reader that is not read any more; a reader-like without cancel() is left be. */
function cancel(target, reason) {
  try {
    Promise.resolve(target.cancel(reason)).catch(noop)
  } catch {
    // Nothing to release.
  }
}

/** Releases the body of a response that will not be read. */
function discard(response) {
  if (hasReadableBody(response) && !response.body.locked) cancel(response.body)
}

/** Calls the user's fetch; a synchronous throw becomes a rejection, as an async function's would. */
function callFetch(fetch, input, init) {
  try {
    return Promise.resolve(fetch(input, init))
  } catch (err) {
    return Promise.reject(err)
  }
}

class FetchAttempt {
  #controller = new AbortController()
  #reader = null
  #aborted = false

  /**
   * Calls `fetch(input, { ...init, signal })` and reads the answer's body through `parser`.
   * `onResponse(response)` runs once the answer came (it may abort the attempt); `onMessage(msg)`
   * per event, while the attempt is not aborted.
   */
  constructor({ fetch, input, init, parser, onResponse, onMessage }) {
    this.signal = this.#controller.signal
    this.done = this.#run(fetch, input, { ...init, signal: this.signal }, parser, onResponse, onMessage)
    // A rejection is the drop-in's to report; one nobody awaits must not crash the process.
    this.done.catch(noop)
  }

  get aborted() {
    return this.#aborted
  }

  /** Aborts the fetch's signal and cancels the body: nothing is delivered after this returns. */
  abort() {
    if (this.#aborted) return
    this.#aborted = true
    this.#controller.abort()
    // A fetch that ignores the signal still stops being read.
    if (this.#reader !== null) cancel(this.#reader)
  }

  async #run(fetch, input, init, parser, onResponse, onMessage) {
    let response
    try {
      response = await callFetch(fetch, input, init)
    } catch (err) {
      if (this.#aborted) return
      throw err
    }
    // Aborted while the fetch ran (it may have ignored the signal), or by onResponse (a status
    // the drop-in refuses): the body is not read, so let it go.
    if (this.#aborted) return discard(response)
    if (typeof response !== 'object' || response === null) {
      throw new TypeError(`the custom fetch resolved with ${String(response)}, not a Response`)
    }
    onResponse(response)
    if (this.#aborted) return discard(response)
    if (!hasReadableBody(response)) {
      throw new TypeError('Invalid response body, expected a web ReadableStream')
    }
    const reader = response.body.getReader()
    this.#reader = reader
    const live = () => !this.#aborted
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (this.#aborted || done) return
        if (value !== undefined) parser.feed(toBytes(value), onMessage, live)
        if (this.#aborted) return
      }
    } catch (err) {
      if (this.#aborted) return
      cancel(reader, err)
      throw err
    }
  }
}

module.exports = { FetchAttempt, RecordParser, isCustomFetch, hasReadableBody, describeError }
