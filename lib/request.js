'use strict'
// SseRequest, the handle post() and request() return (the original front-end `sse` module's `xhr`),
// and the start of a request: options read once, the binding starts it, its state is registered,
// the signal wired.

const { fromNative, invalidOptions } = require('./errors.js')
const { requestOptions } = require('./internal/options.js')
const { RequestState, register, registerStarting, settle } = require('./internal/request-state.js')
const { started, resumeStarted } = require('./internal/diagnostics.js')

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
 * event-stream text (TEXT records, see src/records.rs); `relay` is a relay's diagnostics start
 * message (lib/internal/diagnostics.js). Nothing is registered unless everything succeeds. A body
 * that must be read first (a Blob, a FormData) is read before the native start; the options are
 * checked at once all the same, so bad ones still throw here.
 */
function start(native, options, method, wrap, text = false, generation = undefined, relay = undefined) {
  const { native: nativeOptions, callbacks, signal, pending } = requestOptions(options, method)
  if (text) nativeOptions.text = true
  if (generation !== undefined) nativeOptions.generation = generation
  const wrapped = wrap === undefined ? callbacks : wrap(callbacks)
  // Nothing reads the events (a request for its `final`, its `done`): none is copied to JS.
  if (!text && wrapped.onMessage === undefined) nativeOptions.messages = false
  let state
  try {
    if (pending === undefined) {
      state = new RequestState(native, native.start(nativeOptions), wrapped)
    } else {
      native.check(nativeOptions)
      state = new RequestState(native, undefined, wrapped)
    }
  } catch (err) {
    pending?.catch(() => {})
    throw fromNative(err)
  }
  state.generation = generation
  // The id in force until the server sends one is the one this request resumes from.
  if (nativeOptions.lastEventId !== undefined) state.lastEventId = String(nativeOptions.lastEventId)
  if (pending === undefined) {
    register(state)
    started(state, relay)
  } else {
    startWhenRead(state, nativeOptions, pending, relay)
  }
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

/**
 * Starts a reader of a generation's log on a native instance (`options`: { generation,
 * lastEventId, text }) and returns its RequestState; `wrap({})` gives its callbacks.
 */
function follow(native, options, wrap) {
  const nativeOptions = { generation: options.generation, text: options.text === true }
  if (options.lastEventId !== undefined) nativeOptions.lastEventId = options.lastEventId
  let id
  try {
    id = native.follow(nativeOptions)
  } catch (err) {
    throw fromNative(err)
  }
  const state = new RequestState(native, id, wrap({}))
  state.generation = options.generation
  state.reader = true
  if (options.lastEventId !== undefined) state.lastEventId = options.lastEventId
  register(state)
  resumeStarted(id, options.generation, options.lastEventId)
  return state
}

/** Starts the request once its body has been read, unless it was aborted meanwhile. */
function startWhenRead(state, nativeOptions, pending, relay) {
  registerStarting(state)
  pending.then(
    (bytes) => {
      if (!state.live) return
      nativeOptions.body = bytes
      let id
      try {
        id = state.native.start(nativeOptions)
      } catch (err) {
        // The client was closed or the instance deleted while the body was read: aborted with the
        // other requests of the instance.
        if (err?.code === 'CLIENT_CLOSED' || err?.code === 'INSTANCE_DELETED') state.abort(false)
        else settle(state, fromNative(err), 'end')
        return
      }
      state.id = id
      register(state)
      started(state, relay)
    },
    (err) => {
      if (state.live) settle(state, invalidOptions(`body cannot be read: ${err?.message ?? String(err)}`), 'end')
    },
  )
}

module.exports = { SseRequest, start, follow }
