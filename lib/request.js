'use strict'
// SseRequest, the handle post() and request() return (the original front-end `sse` module's `xhr`),
// and the start of a request: options read once, the binding starts it, its state is registered,
// the signal wired.

const { fromNative, invalidOptions } = require('./errors.js')
const { requestOptions } = require('./internal/options.js')
const { RequestState, register } = require('./internal/request-state.js')

class SseRequest {
  #state

  constructor(state) {
    this.#state = state
  }

  /** Stops the request and closes its connection. Idempotent; no callback runs after it returns. */
  abort() {
    this.#state.abort()
  }

  /** Resolves with 'end', 'done' (doneData) or 'abort'; rejects with the final SseError. */
  get done() {
    return this.#state.done
  }

  /**
   * With `accumulate`: resolves with the assembled message once the request ended cleanly
   * (undefined without `accumulate`, or after abort()); rejects as `done` does.
   */
  get final() {
    return this.#state.finalMessage()
  }

  /** 0 CONNECTING, 1 OPEN, 2 CLOSED, as of the callback being run. */
  get readyState() {
    return this.#state.readyState
  }

  /** The last event id in force, as of the callback being run ("" if none). */
  get lastEventId() {
    return this.#state.lastEventId
  }

  /** 0 for the first attempt, 1.. for reconnects. */
  get attempt() {
    return this.#state.attempt
  }
}

/**
 * Starts a request on a native instance and returns its RequestState. `wrap(callbacks)` lets
 * stream() and relay() replace the user's callbacks by their own; `text` asks for the events as
 * event-stream text (TEXT records, see src/records.rs). Nothing is registered unless everything
 * succeeds.
 */
function start(native, options, method, wrap, text = false) {
  const { native: nativeOptions, callbacks, signal } = requestOptions(options, method)
  if (text) nativeOptions.text = true
  let id
  try {
    id = native.start(nativeOptions)
  } catch (err) {
    throw fromNative(err)
  }
  const state = new RequestState(native, id, wrap === undefined ? callbacks : wrap(callbacks))
  // The id in force until the server sends one is the one this request resumes from.
  if (nativeOptions.lastEventId !== undefined) state.lastEventId = String(nativeOptions.lastEventId)
  register(state)
  if (signal !== undefined) {
    try {
      if (signal.aborted) {
        state.abort()
      } else {
        // Not `signal.onabort`: that belongs to the user.
        state.onAbort = () => state.abort()
        signal.addEventListener('abort', state.onAbort, { once: true })
        state.signal = signal
      }
    } catch (err) {
      state.abort()
      throw invalidOptions(`signal cannot be listened to: ${err?.message ?? String(err)}`)
    }
  }
  return state
}

module.exports = { SseRequest, start }
