'use strict'
// The JS side of the delivery hub: one per environment (the main thread, each worker). The binding
// calls `deliver(texts, meta, ends)` with a batch of records of every open request (the protocol is
// written down in src/records.rs and pinned by __test__/fixtures/records.json); this module decodes
// them, sets the state a user can read (readyState, lastEventId, attempt) immediately before the
// callback it concerns, guards each callback, and drops every record of a request once it was
// aborted, whatever is still queued.

const { setInterval } = require('node:timers')
const { SseError, fromRecord } = require('./errors.js')

const OPEN = 1
const MESSAGE = 2
const ERROR = 3
const END = 4
const FAIL = 5
const ID = 6
const TEXT = 7
const NONE = 0xffffffff

const CONNECTING = 0
const OPENED = 1
const CLOSED = 2

const noop = () => {}

/** One request's state and callbacks. `SseRequest` and `SseStream` are views of it. */
class Sink {
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
    this.onOpen = callbacks.onOpen
    this.onMessage = callbacks.onMessage
    this.onError = callbacks.onError
    this.onClose = callbacks.onClose
    // A relay's: the events of one read as event-stream text (TEXT records), instead of onMessage.
    this.onText = callbacks.onText
    this.signal = null
    this.onAbort = null
    this.done = new Promise((resolve, reject) => {
      this.resolve = resolve
      this.reject = reject
    })
    // Marked handled: a request nobody awaits must not crash the process when it fails.
    this.done.catch(noop)
  }
}

const sinks = new Map()

// Open requests keep the process alive, like a socket; finished and aborted ones do not. One timer
// for all of them, made once and switched with ref()/unref() (an interval per request cost more than
// the rest of the JS side of a short stream), and taken from node:timers at load so that fake
// timers installed later on the global do not replace it.
const keepAlive = setInterval(noop, 0x7fffffff)
keepAlive.unref()
let held = false

function register(sink) {
  sinks.set(sink.id, sink)
  if (!held) {
    held = true
    keepAlive.ref()
  }
}

/** The request is over for the hub: no record of it is expected or decoded any more. */
function detach(sink) {
  sink.live = false
  sinks.delete(sink.id)
  if (sink.signal !== null) {
    const { signal, onAbort } = sink
    sink.signal = null
    try {
      signal.removeEventListener('abort', onAbort)
    } catch {
      // A signal that throws here must not break the batch of other requests.
    }
  }
  if (held && sinks.size === 0) {
    held = false
    keepAlive.unref()
  }
}

/**
 * Aborts one request: no callback of it runs after this returns, `done` resolves with 'abort'.
 * `stopNative` is false when the binding already stopped it (clear, delete, abortAll).
 */
function abort(sink, stopNative) {
  if (sink.silent) return
  sink.silent = true
  sink.readyState = CLOSED
  if (!sink.live) return // aborted inside its own final callbacks: `done` settles as decided
  detach(sink)
  if (stopNative) sink.native.abort(sink.id)
  sink.resolve('abort')
}

/** Silences the requests the binding just aborted (their records may already be queued). */
function aborted(ids) {
  for (const id of ids) {
    const sink = sinks.get(id)
    if (sink !== undefined) abort(sink, false)
  }
}

// An exception nobody asked to handle surfaces as an uncaught exception, as from an EventEmitter,
// without cutting short the rest of the batch.
function rethrowLater(err) {
  process.nextTick(() => {
    throw err
  })
}

function call(sink, fn, arg) {
  if (sink.silent || fn === undefined) return
  try {
    fn(arg)
  } catch (thrown) {
    threw(sink, thrown, fn)
  }
}

// A callback threw. While the request is live it fails with CALLBACK_THREW (the thrown value as
// `cause`): onError (unless it was onError that threw: then the exception is rethrown as uncaught,
// as it is without onError), then onClose, and `done` rejects. After the end (onClose, the final
// onError) there is nothing left to fail: the exception is rethrown as uncaught.
function threw(sink, thrown, fn) {
  if (!sink.live) {
    rethrowLater(thrown)
    return
  }
  detach(sink)
  sink.native.abort(sink.id)
  sink.readyState = CLOSED
  const reason = thrown instanceof Error ? thrown.message : String(thrown)
  const err = new SseError('CALLBACK_THREW', `a callback threw: ${reason}`, { cause: thrown, attempt: sink.attempt })
  if (fn === sink.onError || sink.onError === undefined) rethrowLater(thrown)
  else call(sink, sink.onError, err)
  call(sink, sink.onClose, undefined)
  sink.silent = true
  sink.reject(err)
}

/** The last record of a request: END (`how` 0 body end, 1 doneData) or FAIL (`err`). */
function finish(sink, err, how) {
  sink.readyState = CLOSED
  detach(sink)
  sink.native.finish(sink.id)
  if (err !== undefined) call(sink, sink.onError, err)
  call(sink, sink.onClose, undefined)
  sink.silent = true
  if (err !== undefined) sink.reject(err)
  else sink.resolve(how === 1 ? 'done' : 'end')
}

function deliver(texts, meta, ends) {
  const n = meta.length
  let i = 0
  let pos = 0
  let segment = 0
  let text = texts[0]
  let segmentEnd = ends[0]
  let sink
  let sinkId = -1
  while (i < n) {
    while (i >= segmentEnd) {
      segment++
      text = texts[segment]
      segmentEnd = ends[segment]
      pos = 0
    }
    const kind = meta[i]
    const id = meta[i + 1]
    if (id !== sinkId) {
      sink = sinks.get(id)
      sinkId = id
    }
    // Checked per record: a callback earlier in this batch may have aborted this request.
    const live = sink !== undefined && !sink.silent
    if (kind === MESSAGE) {
      const dataLen = meta[i + 2]
      const eventLen = meta[i + 3]
      const idLen = meta[i + 4]
      const retryHigh = meta[i + 5]
      const retryLow = meta[i + 6]
      i += 7
      const start = pos
      pos += dataLen
      let event = 'message'
      if (eventLen !== NONE) {
        if (live) event = text.slice(pos, pos + eventLen)
        pos += eventLen
      }
      if (idLen !== NONE) {
        if (live) sink.lastEventId = text.slice(pos, pos + idLen)
        pos += idLen
      }
      if (!live) continue
      const data = text.slice(start, start + dataLen)
      const msg =
        retryHigh === NONE
          ? { data, event, id: sink.lastEventId }
          : { data, event, id: sink.lastEventId, retry: retryHigh * 0x100000000 + retryLow }
      call(sink, sink.onMessage, msg)
    } else if (kind === END) {
      const how = meta[i + 2]
      i += 3
      if (live) finish(sink, undefined, how)
    } else {
      const len = meta[i + 2]
      i += 3
      const value = text.slice(pos, pos + len)
      pos += len
      if (!live) continue
      if (kind === OPEN) {
        sink.readyState = OPENED
        call(sink, sink.onOpen, JSON.parse(value))
      } else if (kind === TEXT) {
        call(sink, sink.onText, value)
      } else if (kind === ID) {
        sink.lastEventId = value
      } else if (kind === ERROR) {
        const fields = JSON.parse(value)
        sink.readyState = CONNECTING
        sink.attempt = fields.attempt
        call(sink, sink.onError, fromRecord(fields))
        sink.attempt = fields.attempt + 1
      } else if (kind === FAIL) {
        const fields = JSON.parse(value)
        sink.attempt = fields.attempt
        finish(sink, fromRecord(fields), 0)
      }
    }
  }
}

module.exports = { Sink, register, abort, aborted, deliver }
