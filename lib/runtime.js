// The JS-thread half of native-sse, evaluated once per JS environment by src/callbacks.rs. It does
// only what must happen on the JS thread (API.md "Where the work happens"): build message objects
// from a delivered batch, guard each callback, drop deliveries after abort, wire AbortSignal, hold
// the single `done` Promise, and keep the process alive while requests are open.
//
// A batch is `deliver(texts, meta, ends)`: `texts` holds every string of the batch back to back,
// cut into segments of 32 KiB or a little more (small enough for V8's young generation); `meta` a
// run of records, each [kind, requestId, ...]; the records of segment k end at meta index ends[k]
// (a record's strings never straddle two segments). Lengths count UTF-16 code units; NONE = 0xffffffff.
//   OPEN    1: [1, id, len]                 text: JSON { status, headers }
//   MESSAGE 2: [2, id, dataLen, eventLen|NONE, idLen|NONE, retry|NONE]
//              text: data, then event type (NONE: "message"), then id (NONE: unchanged)
//   ERROR   3: [3, id, len]                 text: JSON of an SseError that will be retried
//   CLOSE   4: [4, id]                      clean end: onClose, done resolves
//   FAIL    5: [5, id, len]                 text: JSON of the final SseError: onError, done rejects
;(() => {
  'use strict'
  const OPEN = 1
  const MESSAGE = 2
  const ERROR = 3
  const CLOSE = 4
  const FAIL = 5
  const NONE = 0xffffffff
  // stream(): messages queued for the loop before the socket is paused, and the level that resumes it.
  const STREAM_HIGH = 1024
  const STREAM_LOW = 256
  // The key under which stream() options carry the hook that gives the iterator its request.
  const ATTACH_STREAM = Symbol('native-sse stream')

  const sinks = new Map()
  const noop = () => {}
  // Open requests keep the process alive, like a socket; finished and aborted ones do not. One timer
  // for all of them, made once and switched with ref()/unref(): creating and clearing an interval per
  // request cost more than the rest of the JS side of a short stream. The native side holds no
  // strong handle on the event loop.
  const keepAlive = setInterval(noop, 0x7fffffff)
  keepAlive.unref()
  let held = false
  function hold() {
    if (!held) {
      held = true
      keepAlive.ref()
    }
  }
  function release() {
    if (held && sinks.size === 0) {
      held = false
      keepAlive.unref()
    }
  }

  // An exception nobody asked to handle surfaces as an uncaught exception, as from an EventEmitter,
  // without cutting short the rest of the batch.
  function rethrowLater(err) {
    process.nextTick(() => {
      throw err
    })
  }

  function sseError(fields) {
    const err = new Error(fields.message)
    err.name = 'SseError'
    err.code = fields.code
    if (fields.status != null) err.status = fields.status
    if (fields.body != null) err.body = fields.body
    err.attempt = fields.attempt
    err.willRetry = fields.willRetry
    return err
  }

  function open(id, handle, options) {
    const signal = options.signal
    // Checked before anything is registered, so a bad signal leaves nothing behind.
    if (signal != null && (typeof signal.addEventListener !== 'function' || typeof signal.aborted !== 'boolean')) {
      throw new TypeError('signal must be an AbortSignal')
    }
    let resolve, reject
    const done = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    // Marked handled: a request nobody awaits must not crash the process when it fails.
    done.catch(noop)
    const sink = {
      id,
      handle,
      closed: false,
      lastId: '',
      attempt: 0,
      onOpen: options.onOpen,
      onMessage: options.onMessage,
      onError: options.onError,
      onClose: options.onClose,
      resolve,
      reject,
      signal: null,
      onAbort: null,
    }
    sinks.set(id, sink)
    hold()
    options[ATTACH_STREAM]?.(handle, done)
    if (signal != null) {
      if (signal.aborted) {
        handle.abort()
      } else {
        // Not `signal.onabort`: that belongs to the user.
        sink.signal = signal
        sink.onAbort = () => handle.abort()
        signal.addEventListener('abort', sink.onAbort, { once: true })
      }
    }
    return done
  }

  function finish(sink) {
    sink.closed = true
    sinks.delete(sink.id)
    if (sink.signal !== null) sink.signal.removeEventListener('abort', sink.onAbort)
    release()
  }

  // From the native abort(): nothing of this request runs from now on.
  function abort(id) {
    const sink = sinks.get(id)
    if (sink === undefined) return
    finish(sink)
    sink.resolve()
  }

  // A callback threw: the request is aborted and onError gets CALLBACK_THREW with the thrown value as
  // `cause`; without onError the exception is rethrown as uncaught.
  function threw(sink, thrown, fromOnError) {
    const wasOpen = !sink.closed
    if (wasOpen) finish(sink)
    sink.handle.abort()
    const reason = thrown instanceof Error ? thrown.message : String(thrown)
    const err = sseError({
      code: 'CALLBACK_THREW',
      message: `a callback threw: ${reason}`,
      attempt: sink.attempt,
      willRetry: false,
    })
    err.cause = thrown
    if (fromOnError || typeof sink.onError !== 'function') {
      rethrowLater(thrown)
    } else {
      try {
        sink.onError(err)
      } catch (again) {
        rethrowLater(again)
      }
    }
    sink.reject(err)
  }

  function call(sink, fn, arg) {
    if (typeof fn !== 'function') return
    try {
      fn(arg)
    } catch (thrown) {
      threw(sink, thrown, fn === sink.onError)
    }
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
      const live = sink !== undefined && !sink.closed
      if (kind === MESSAGE) {
        const dataLen = meta[i + 2]
        const eventLen = meta[i + 3]
        const idLen = meta[i + 4]
        const retry = meta[i + 5]
        i += 6
        const start = pos
        pos += dataLen
        let event = 'message'
        if (eventLen !== NONE) {
          if (live) event = text.slice(pos, pos + eventLen)
          pos += eventLen
        }
        if (idLen !== NONE) {
          if (live) sink.lastId = text.slice(pos, pos + idLen)
          pos += idLen
        }
        if (!live) continue
        const data = text.slice(start, start + dataLen)
        const msg = retry === NONE ? { data, event, id: sink.lastId } : { data, event, id: sink.lastId, retry }
        call(sink, sink.onMessage, msg)
      } else if (kind === CLOSE) {
        i += 2
        if (!live) continue
        finish(sink)
        call(sink, sink.onClose, undefined)
        sink.resolve()
      } else {
        const len = meta[i + 2]
        i += 3
        const json = text.slice(pos, pos + len)
        pos += len
        if (!live) continue
        const fields = JSON.parse(json)
        if (kind === OPEN) {
          call(sink, sink.onOpen, fields)
        } else if (kind === ERROR) {
          sink.attempt = fields.attempt + 1
          call(sink, sink.onError, sseError(fields))
        } else if (kind === FAIL) {
          finish(sink)
          const err = sseError(fields)
          call(sink, sink.onError, err)
          sink.reject(err)
        }
      }
    }
  }

  // stream(): the request's messages as an async iterator. Messages wait in a queue until the loop
  // takes them; the loop ends when `done` settles (clean end or abort) and throws the final error.
  function makeStream(options) {
    const queue = []
    let head = 0
    let waiters = []
    // Both set by open(), before stream() returns the iterable and before any message.
    let handle = null
    let done = null
    let ended = false
    let failure = null
    const wake = () => {
      const ws = waiters
      waiters = []
      for (const w of ws) w()
    }
    let paused = false
    const wrapped = Object.create(options)
    wrapped.onMessage = (msg) => {
      queue.push(msg)
      // Back-pressure: past the high mark the native side stops reading the socket (after the batch
      // in flight), so a slow loop holds at most a bounded number of messages.
      if (!paused && queue.length - head >= STREAM_HIGH) {
        paused = true
        handle._pause()
      }
      wake()
    }
    const iterator = {
      async next() {
        for (;;) {
          if (head < queue.length) {
            const value = queue[head]
            queue[head++] = undefined
            if (head === queue.length) {
              queue.length = 0
              head = 0
            }
            if (paused && queue.length - head <= STREAM_LOW) {
              paused = false
              handle._resume()
            }
            return { value, done: false }
          }
          if (failure !== null) {
            const err = failure
            failure = null
            throw err
          }
          if (ended) return { value: undefined, done: true }
          await new Promise((resolve) => waiters.push(resolve))
        }
      },
      async return() {
        handle.abort()
        ended = true
        queue.length = 0
        head = 0
        return { value: undefined, done: true }
      },
      [Symbol.asyncIterator]() {
        return this
      },
    }
    const iterable = {
      [Symbol.asyncIterator]: () => iterator,
      abort() {
        handle.abort()
      },
      get done() {
        return done
      },
      get request() {
        return handle
      },
    }
    wrapped[ATTACH_STREAM] = (h, requestDone) => {
      handle = h
      done = requestDone
      done.then(
        () => {
          ended = true
          wake()
        },
        (err) => {
          ended = true
          failure = err
          wake()
        },
      )
    }
    return { iterable, options: wrapped }
  }

  return { open, abort, deliver, makeStream }
})()
