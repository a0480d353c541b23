'use strict'
// The state of one request on the JS side, and the registry of the open ones in this environment
// (the main thread, each worker). `SseRequest`, `SseStream` and the relay are views of a
// RequestState; the record decoder (records.js) sets its fields right before the callback they
// concern and ends it. Once a request is aborted, none of its callbacks runs again, whatever records
// of it are still queued.

const { SseError } = require('../errors.js')
const { ended } = require('./diagnostics.js')

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2

const noop = () => {}

/** SseStream's getter for `inBandTerminal`, for the web adapters (not a public name). */
const IN_BAND = Symbol('inBandTerminal')

const open = new Map()
// Requests whose body is still being read (a Blob): not started, no id yet.
const starting = new Set()

// Open requests keep the process alive, like a socket; finished and aborted ones do not. One native
// handle for all of them (the binding's keepAlive), referenced while any is open: not a timer, which
// a test framework's fake timers could replace (node:test's mock.timers replaces node:timers too)
// and whose reset would let the process exit mid-stream.
let held = false
// The binding's keepAlive(hold), handed over by the binding's loader (binding.js) when it loads.
let keepAlive = noop

/** Called once by the binding's loader with the binding's keepAlive. */
function useKeepAlive(fn) {
  keepAlive = fn
}

function holdProcess(hold) {
  if (held === hold) return
  held = hold
  keepAlive(hold)
}

const anyOpen = () => open.size > 0 || starting.size > 0

/** One request's state and callbacks. */
class RequestState {
  /**
   * @param {object} native the binding's NativeInstance that started the request
   * @param {number | undefined} id the request's id (unique in the process); undefined until a
   *   request whose body is read first has started
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
    // A resumable request's generation id (set by the starter), undefined otherwise.
    this.generation = undefined
    // A reader of a generation's log (resume()), not an upstream request.
    this.reader = false
    // diagnostics_channel: the request's start message when something listened as it started
    // (lib/internal/diagnostics.js), and when it started; null: nothing is published for it.
    this.diag = null
    this.diagStart = 0
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
    if (this.diag !== null) ended(this, 'abort')
    if (stopNative && this.id !== undefined) this.native.abort(this.id)
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
  if (this.diag !== null) ended(this, 'detach')
  this.native.detach(this.id)
  this.resolve('detach')
}

function register(state) {
  starting.delete(state)
  open.set(state.id, state)
  holdProcess(true)
}

/** A request whose body is being read: it keeps the process alive until it starts or ends. */
function registerStarting(state) {
  starting.add(state)
  holdProcess(true)
}

/** The open request with this id, or undefined. */
const lookup = (id) => open.get(id)

/** The request is over for the decoder: no record of it is expected or decoded any more. */
function detach(state) {
  state.live = false
  if (state.id === undefined) starting.delete(state)
  else open.delete(state.id)
  if (state.signal !== null) {
    const { signal, onAbort } = state
    state.signal = null
    try {
      signal.removeEventListener('abort', onAbort)
    } catch {
      // A signal that throws here must not break the batch of other requests.
    }
  }
  if (held && !anyOpen()) holdProcess(false)
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
  state.readyState = CLOSED
  const reason = thrown instanceof Error ? thrown.message : String(thrown)
  const err = new SseError('CALLBACK_THREW', `a callback threw: ${reason}`, { cause: thrown, attempt: state.attempt })
  if (state.diag !== null) ended(state, 'error', err)
  if (state.id !== undefined) state.native.abort(state.id)
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
  if (state.diag !== null) ended(state, err === undefined ? how : 'error', err)
  if (state.id !== undefined) state.native.release(state.id)
  if (err !== undefined) call(state, state.onError, err)
  call(state, state.onClose, undefined)
  state.silent = true
  if (err !== undefined) state.reject(err)
  else state.resolve(how)
}

module.exports = {
  RequestState,
  register,
  registerStarting,
  lookup,
  aborted,
  call,
  settle,
  useKeepAlive,
  IN_BAND,
  CONNECTING,
  OPEN,
  CLOSED,
}
