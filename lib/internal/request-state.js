'use strict'
// The state of one request on the JS side, and the registry of the open ones in this environment
// (the main thread, each worker). `SseRequest`, `SseStream` and the relay are views of a
// RequestState; the record decoder (records.js) sets its fields right before the callback they
// concern and ends it. Once a request is aborted, none of its callbacks runs again, whatever records
// of it are still queued.

const { setInterval } = require('node:timers')
const { SseError } = require('../errors.js')

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2

const noop = () => {}

const open = new Map()

// Open requests keep the process alive, like a socket; finished and aborted ones do not. One timer
// for all of them, made once and switched with ref()/unref() (an interval per request cost more than
// the rest of the JS side of a short stream), and taken from node:timers at load so that fake
// timers installed later on the global do not replace it.
const keepAlive = setInterval(noop, 0x7fffffff)
keepAlive.unref()
let held = false

/** One request's state and callbacks. */
class RequestState {
  /**
   * @param {object} native the binding's NativeInstance that started the request
   * @param {number} id the request's id (unique in the process)
   * @param {object} callbacks onOpen, onMessage, onError, onClose, onSnapshot, and a relay's onText
   */
  constructor(native, id, callbacks) {
    this.native = native
    this.id = id
    this.readyState = CONNECTING
    this.lastEventId = ''
    this.attempt = 0
    // Records may still come (until END/FAIL is decoded or the request is aborted).
    this.live = true
    // No callback runs from now on.
    this.silent = false
    // The native reader stops reading the socket while this is set (back-pressure).
    this.paused = false
    this.onOpen = callbacks.onOpen
    this.onMessage = callbacks.onMessage
    this.onError = callbacks.onError
    this.onClose = callbacks.onClose
    // `snapshotEvery`: a tool call's arguments parsed so far (SNAPSHOT records).
    this.onSnapshot = callbacks.onSnapshot
    // A relay's: the events of one read as event-stream text (TEXT records), instead of onMessage.
    this.onText = callbacks.onText
    // A resumable request's: its log is open (LOG record), before any other record.
    this.onLog = callbacks.onLog
    // Its terminal event (an `error` one too) is among its events: nothing else is to be written.
    this.inBandTerminal = false
    // `accumulate`: the assembled message's JSON (FINAL record), and the `final` promise, made
    // when first read.
    this.finalText = undefined
    this.final = undefined
    this.signal = null
    this.onAbort = null
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Marked handled: a request nobody awaits must not crash the process when it fails.
    this.done.catch(noop)
  }

  /**
   * The request's `final`: the message `accumulate` assembled once the request ended cleanly,
   * undefined without `accumulate` or after abort(); rejects as `done` does. Made once, marked handled.
   */
  finalMessage() {
    if (this.final === undefined) {
      this.final = this.done.then(() => (this.finalText === undefined ? undefined : JSON.parse(this.finalText)))
      this.final.catch(noop)
    }
    return this.final
  }

  /** Stops reading the socket once the batch in flight is handed over; idempotent. */
  pause() {
    if (this.paused || !this.live) return
    this.paused = true
    this.native.pause(this.id)
  }

  /** Reads the socket again; idempotent. */
  resume() {
    if (!this.paused) return
    this.paused = false
    if (this.live) this.native.resume(this.id)
  }

  /**
   * Aborts the request: no callback of it runs after this returns, `done` resolves with 'abort'.
   * `stopNative` is false when the binding already stopped it (clear, delete, abortAll).
   */
  abort(stopNative = true) {
    if (this.silent) return
    this.silent = true
    this.readyState = CLOSED
    if (!this.live) return // aborted inside its own final callbacks: `done` settles as decided
    detach(this)
    if (stopNative) this.native.abort(this.id)
    this.resolve('abort')
  }
}

/**
 * Lets a resumable request go on without this side (its browser left): no callback of it runs
 * again, `done` resolves with 'detach', and the native request runs to its end, logging.
 */
RequestState.prototype.detach = function detachRequest() {
  if (this.silent) return
  this.silent = true
  this.readyState = CLOSED
  if (!this.live) return
  detach(this)
  this.native.detach(this.id)
  this.resolve('detach')
}

function register(state) {
  open.set(state.id, state)
  if (!held) {
    held = true
    keepAlive.ref()
  }
}

/** The open request with this id, or undefined. */
const lookup = (id) => open.get(id)

/** The request is over for the decoder: no record of it is expected or decoded any more. */
function detach(state) {
  state.live = false
  open.delete(state.id)
  if (state.signal !== null) {
    const { signal, onAbort } = state
    state.signal = null
    try {
      signal.removeEventListener('abort', onAbort)
    } catch {
      // A signal that throws here must not break the batch of other requests.
    }
  }
  if (held && open.size === 0) {
    held = false
    keepAlive.unref()
  }
}

/** Silences the requests the binding just aborted (their records may already be queued). */
function aborted(ids) {
  for (const id of ids) open.get(id)?.abort(false)
}

// An exception nobody asked to handle surfaces as an uncaught exception, as from an EventEmitter,
// without cutting short the rest of the batch.
function rethrowLater(err) {
  process.nextTick(() => {
    throw err
  })
}

/** Runs one of the request's callbacks, unless it was silenced. */
function call(state, fn, arg) {
  if (state.silent || fn === undefined) return
  try {
    fn(arg)
  } catch (thrown) {
    threw(state, thrown, fn)
  }
}

// A callback threw. While the request is live it fails with CALLBACK_THREW (the thrown value as
// `cause`): onError (unless it was onError that threw: then the exception is rethrown as uncaught,
// as it is without onError), then onClose, and `done` rejects. After the end (onClose, the final
// onError) there is nothing left to fail: the exception is rethrown as uncaught.
function threw(state, thrown, fn) {
  if (!state.live) {
    rethrowLater(thrown)
    return
  }
  detach(state)
  state.native.abort(state.id)
  state.readyState = CLOSED
  const reason = thrown instanceof Error ? thrown.message : String(thrown)
  const err = new SseError('CALLBACK_THREW', `a callback threw: ${reason}`, { cause: thrown, attempt: state.attempt })
  if (fn === state.onError || state.onError === undefined) rethrowLater(thrown)
  else call(state, state.onError, err)
  call(state, state.onClose, undefined)
  state.silent = true
  state.reject(err)
}

/** The request's last record: a clean end (`how` 'end' or 'done') or the final error `err`. */
function settle(state, err, how) {
  state.readyState = CLOSED
  detach(state)
  state.native.release(state.id)
  if (err !== undefined) call(state, state.onError, err)
  call(state, state.onClose, undefined)
  state.silent = true
  if (err !== undefined) state.reject(err)
  else state.resolve(how)
}

module.exports = { RequestState, register, lookup, aborted, call, settle, CONNECTING, OPEN, CLOSED }
