// Adapters from an SseStream (what `sse.stream(options)` returns: an async iterable of messages with
// abort(), done and request) to the stream types SSR frameworks take: a web ReadableStream (of
// messages, or of the bytes of an event stream), a web Response (Next.js App Router, Hono, Nuxt/h3,
// Bun, Deno), and an object-mode Node Readable.
//
// All three are pull-based: the next message is taken from the SseStream only when the consumer
// asks for one, so a slow consumer leaves messages in the SseStream's queue, which pauses the
// native reader once it fills (the upstream's TCP window then closes). Cancelling the web stream,
// destroying the Node stream, or the Response body being cancelled (the browser left) aborts the
// upstream request.
'use strict'

const { Readable } = require('node:stream')
const { createEncoder } = require('../encode.js')
const { IN_BAND } = require('../internal/request-state.js')
const { EVENT_STREAM_HEADERS, createHeartbeat, heartbeatMs, terminalText } = require('./event-stream.js')

// The consumer went away (the browser left): a resumable generation goes on, anything else stops.
const leave = (stream) => (typeof stream.detach === 'function' ? stream.detach() : stream.abort())

function checkStream(stream, who) {
  if (stream === null || typeof stream !== 'object' || typeof stream[Symbol.asyncIterator] !== 'function') {
    throw new TypeError(`${who}: expected the SseStream that sse.stream(options) returns`)
  }
  if (typeof stream.abort !== 'function') throw new TypeError(`${who}: the stream has no abort()`)
}

/**
 * A web ReadableStream over `stream`.
 * - `{}`: a stream of SseMessage objects; the upstream's final error errors the stream.
 * - `{ format: 'sse' }`: Uint8Array chunks (UTF-8) of a valid event stream, one event per chunk,
 *   ids written only when they change. Options: `heartbeat` (ms without a write before a `:`
 *   comment is sent, default 15000, false/0 off), `errorEvent` (see event-stream.js terminalEvent; the stream then
 *   closes normally so the page can tell failure from completion), `transform` ((msg) => msg | null:
 *   map or drop each message). With `errorEvent: false` the final error errors the byte stream.
 */
function toReadableStream(stream, options = {}) {
  checkStream(stream, 'toReadableStream')
  const { format } = options
  if (format !== undefined && format !== 'sse' && format !== 'object') {
    throw new TypeError(`toReadableStream: format must be 'sse' or left out, got ${JSON.stringify(format)}`)
  }
  const iterator = stream[Symbol.asyncIterator]()
  if (format !== 'sse') {
    let cancelled = false
    return new ReadableStream(
      {
        async pull(controller) {
          let step
          try {
            step = await iterator.next()
          } catch (err) {
            if (!cancelled) controller.error(err)
            return
          }
          // After cancel() the abort ends the iterator; the stream is closed already.
          if (cancelled) return
          if (step.done) controller.close()
          else controller.enqueue(step.value)
        },
        cancel() {
          cancelled = true
          leave(stream)
        },
      },
      // No read-ahead: a message leaves the SseStream's queue only when the consumer reads.
      { highWaterMark: 0 },
    )
  }

  const encoder = new TextEncoder()
  const encode = createEncoder()
  const transform = options.transform
  if (transform !== undefined && typeof transform !== 'function') throw new TypeError('transform must be a function')
  const errorEvent = options.errorEvent
  const interval = heartbeatMs(options.heartbeat)
  let finished = false
  let heartbeat = null
  // The stream's end, once: the terminal event (if any) and close.
  const end = (controller, err) => {
    finished = true
    heartbeat.stop()
    if (err !== undefined) {
      const text = terminalText(errorEvent, err, encode)
      if (text !== undefined) controller.enqueue(encoder.encode(text))
    }
    controller.close()
  }
  return new ReadableStream(
    {
      start(controller) {
        heartbeat = createHeartbeat(interval, (comment) => {
          // Not while the consumer is backed up (see createHeartbeat).
          if (!finished && controller.desiredSize >= 0) controller.enqueue(encoder.encode(comment))
        })
      },
      async pull(controller) {
        for (;;) {
          let step
          try {
            step = await iterator.next()
          } catch (err) {
            if (finished) return
            // A resumable stream's terminal event was among its messages: end as the log ends.
            if (stream[IN_BAND] === true) {
              end(controller)
              return
            }
            if (errorEvent === false || errorEvent === null) {
              finished = true
              heartbeat.stop()
              controller.error(err)
              return
            }
            end(controller, err)
            return
          }
          if (finished) return
          if (step.done) {
            end(controller)
            return
          }
          let msg = step.value
          if (transform !== undefined) {
            try {
              msg = transform(msg)
            } catch (err) {
              // A throwing transform ends the stream like an upstream failure would.
              stream.abort()
              end(controller, err)
              return
            }
            // Dropped: take the next one, this pull still owes the consumer a chunk.
            if (msg === null || msg === undefined) continue
          }
          heartbeat.touch()
          controller.enqueue(encoder.encode(encode(msg)))
          return
        }
      },
      cancel() {
        finished = true
        heartbeat.stop()
        leave(stream)
      },
    },
    { highWaterMark: 0 },
  )
}

/**
 * A web Response whose body is `toReadableStream(stream, { format: 'sse', ...options })`, with
 * status 200 and the event-stream headers (content-type, cache-control: no-cache,
 * x-accel-buffering: no); `init` (a ResponseInit) may add or override headers and the status.
 */
function toResponse(stream, init = {}, options = {}) {
  checkStream(stream, 'toResponse')
  const headers = new Headers(EVENT_STREAM_HEADERS)
  if (init.headers !== undefined) {
    for (const [name, value] of new Headers(init.headers)) headers.set(name, value)
  }
  const body = toReadableStream(stream, { ...options, format: 'sse' })
  return new Response(body, { status: 200, ...init, headers })
}

/**
 * An object-mode Node Readable of SseMessage objects. It reads from `stream` only when its own
 * buffer wants more (`highWaterMark` messages, default 16); destroying it aborts the upstream; the
 * upstream's final error destroys it with that error.
 */
function toNodeReadable(stream, { highWaterMark = 16 } = {}) {
  checkStream(stream, 'toNodeReadable')
  const iterator = stream[Symbol.asyncIterator]()
  let reading = false
  return new Readable({
    objectMode: true,
    highWaterMark,
    read() {
      if (reading) return
      reading = true
      const step = () =>
        iterator.next().then(
          (r) => {
            if (this.destroyed) return
            if (r.done) {
              reading = false
              this.push(null)
            } else if (this.push(r.value)) {
              step()
            } else {
              reading = false
            }
          },
          (err) => {
            reading = false
            this.destroy(err)
          },
        )
      step()
    },
    destroy(err, callback) {
      leave(stream)
      callback(err)
    },
  })
}

module.exports = { toReadableStream, toResponse, toNodeReadable }
