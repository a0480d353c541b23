'use strict'
// SseRequest, the handle post() and request() return (the seed's `xhr`), and the start of a
// request: options read once, the binding starts it, the sink is registered, the signal wired.

const delivery = require('./delivery.js')
const { fromNative, invalidOptions } = require('./errors.js')
const { requestOptions } = require('./options.js')

class SseRequest {
  #sink

  constructor(sink) {
    this.#sink = sink
  }

  /** Stops the request and closes its connection. Idempotent; no callback runs after it returns. */
  abort() {
    delivery.abort(this.#sink, true)
  }

  /** Resolves with 'end', 'done' (doneData) or 'abort'; rejects with the final SseError. */
  get done() {
    return this.#sink.done
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSED, as of the callback being run. */
  get readyState() {
    return this.#sink.readyState
  }

  /** The last event id in force, as of the callback being run ("" if none). */
  get lastEventId() {
    return this.#sink.lastEventId
  }

  /** 0 for the first attempt, 1.. for reconnects. */
  get attempt() {
    return this.#sink.attempt
  }
}

/**
 * Starts a request on a native instance and returns its sink. `wrap(callbacks)` lets stream() and
 * relay() replace the user's callbacks by their own; `text` asks for the events as event-stream
 * text (TEXT records, see src/records.rs). Nothing is registered unless everything succeeds.
 */
function start(native, options, method, wrap, text = false) {
  const { native: nativeOptions, callbacks, signal } = requestOptions(options, method)
  if (text) nativeOptions.text = true
  let id
  try {
    id = native.start(nativeOptions)
  } catch (err) {
    throw fromNative(err, nativeOptions)
  }
  const sink = new delivery.Sink(native, id, wrap === undefined ? callbacks : wrap(callbacks))
  // The id in force until the server sends one is the one this request resumes from.
  if (nativeOptions.lastEventId !== undefined) sink.lastEventId = String(nativeOptions.lastEventId)
  delivery.register(sink)
  if (signal !== undefined) {
    try {
      if (signal.aborted) {
        delivery.abort(sink, true)
      } else {
        // Not `signal.onabort`: that belongs to the user.
        sink.onAbort = () => delivery.abort(sink, true)
        signal.addEventListener('abort', sink.onAbort, { once: true })
        sink.signal = signal
      }
    } catch (err) {
      delivery.abort(sink, true)
      throw invalidOptions(`signal cannot be listened to: ${err?.message ?? String(err)}`)
    }
  }
  return sink
}

module.exports = { SseRequest, start }
