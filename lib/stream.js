'use strict'
// SseStream, what stream() returns: the request's messages as an async iterator. Messages wait in a
// queue until the loop takes them; the loop ends when the request ends (clean end, doneData or
// abort) and throws the final error. A loop that falls behind pauses the native reader, so the
// queue is bounded in bytes as well as in messages, whatever the size of the events.

const { toReadableStream, toResponse, toNodeReadable } = require('./relay/web.js')
const { SseRequest } = require('./request.js')
const { IN_BAND } = require('./internal/request-state.js')

// Past either high mark the reader stops reading the socket (after the batch in flight); below
// both low marks it resumes. Bytes count UTF-16 code units of data, event and id (x2 in memory).
const HIGH_MESSAGES = 1024
const LOW_MESSAGES = 256
const HIGH_UNITS = 1 << 20
const LOW_UNITS = 1 << 18

const size = (msg) => msg.data.length + msg.event.length + msg.id.length

class SseStream {
  #state = null
  #request = null
  #queue = []
  #head = 0
  #units = 0
  #waiters = []
  #ended = false
  #failure = null
  #ready = null

  /** @param {(wrap: (callbacks: object) => object) => import('./internal/request-state.js').RequestState} start */
  constructor(start) {
    const wake = () => {
      const waiters = this.#waiters
      if (waiters.length === 0) return
      this.#waiters = []
      for (const waiter of waiters) waiter()
    }
    let ready
    this.#ready = new Promise((resolve, reject) => (ready = { resolve, reject }))
    // Marked handled: a stream nobody asks whether it started must not crash the process.
    this.#ready.catch(() => {})
    // The user's onOpen, onError and onClose stay; messages go to the queue.
    this.#state = start((callbacks) => ({
      ...callbacks,
      // A request has started once the server answered; a resumable one once its log is open.
      onOpen: (info) => {
        if (this.#state.generation === undefined) ready.resolve()
        callbacks.onOpen?.(info)
      },
      onLog: (generation) => {
        ready.resolve()
        callbacks.onLog?.(generation)
      },
      onMessage: (msg) => {
        this.#queue.push(msg)
        this.#units += size(msg)
        if (this.#queue.length - this.#head >= HIGH_MESSAGES || this.#units >= HIGH_UNITS) this.#state.pause()
        wake()
      },
    }))
    this.#request = new SseRequest(this.#state)
    this.#state.done.then(
      () => {
        this.#ended = true
        ready.resolve()
        wake()
      },
      (err) => {
        this.#ended = true
        this.#failure = err
        ready.reject(err)
        wake()
      },
    )
  }

  /**
   * Resolves once the request has started: the server answered (a resumable stream: its log is
   * open), or it ended first; rejects with the error that ended it before that. For a web handler
   * that wants to answer an error status itself: `await stream.ready` before `toResponse()`, e.g.
   * 503 when the store refused a resumable stream (STORE, GENERATION_EXISTS).
   */
  get ready() {
    return this.#ready
  }

  /** Stops the request; the loop ends after the messages already received. */
  abort() {
    this.#request.abort()
  }

  /**
   * Stops receiving. A resumable generation (`resumable: { id }`) goes on without this stream and
   * can be resumed; any other request is aborted. What a web Response does when its browser leaves.
   */
  detach() {
    if (this.#state.generation !== undefined) this.#state.detach()
    else this.#request.abort()
  }

  /** For the web adapters: the terminal event (an `error` one too) is among the messages. */
  get [IN_BAND]() {
    return this.#state.inBandTerminal
  }

  /** The request's `done`: 'end' | 'done' | 'abort', or rejects with the final SseError. */
  get done() {
    return this.#state.done
  }

  /** The request's `final`: with `accumulate`, the assembled message. */
  get final() {
    return this.#state.finalMessage()
  }

  /** The handle of the underlying request. */
  get request() {
    return this.#request
  }

  #take() {
    const value = this.#queue[this.#head]
    this.#queue[this.#head++] = undefined
    this.#units -= size(value)
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0
      this.#head = 0
    }
    if (this.#state.paused && this.#queue.length - this.#head <= LOW_MESSAGES && this.#units <= LOW_UNITS) {
      this.#state.resume()
    }
    return value
  }

  async next() {
    for (;;) {
      if (this.#head < this.#queue.length) return { value: this.#take(), done: false }
      if (this.#failure !== null) {
        const err = this.#failure
        this.#failure = null
        throw err
      }
      if (this.#ended) return { value: undefined, done: true }
      await new Promise((resolve) => this.#waiters.push(resolve))
    }
  }

  /** Leaving a loop early (break, return, throw) aborts the request. */
  async return() {
    this.#request.abort()
    this.#ended = true
    this.#queue.length = 0
    this.#head = 0
    this.#units = 0
    return { value: undefined, done: true }
  }

  [Symbol.asyncIterator]() {
    return this
  }

  /** A web ReadableStream of the messages, or with `{ format: 'sse' }` of event-stream bytes. */
  toReadableStream(options) {
    return toReadableStream(this, options)
  }

  /** A web Response streaming the events (Next.js App Router, Hono, Nuxt/h3, Bun, Deno handlers). */
  toResponse(init, options) {
    return toResponse(this, init, options)
  }

  /** An object-mode Node Readable of the messages. */
  toNodeReadable(options) {
    return toNodeReadable(this, options)
  }
}

module.exports = { SseStream }
