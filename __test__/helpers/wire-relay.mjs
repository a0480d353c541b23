// Until the JS module (issue 9) attaches them as methods, this puts the relay and the stream adapters
// where the public API will have them: `sse.relay(res, options)` on ServerSentEvents.prototype, and
// `toReadableStream()`, `toResponse()`, `toNodeReadable()` on every stream `sse.stream()` returns.
// Importing it is enough; the lead deletes it once the methods are real.
import { createRequire } from 'node:module'
import { ServerSentEvents } from '../../index.mjs'

const require = createRequire(import.meta.url)
const { relay } = require('../../lib/relay.js')
const { toReadableStream, toResponse, toNodeReadable } = require('../../lib/adapters.js')
export const { encodeEvent, encodeComment, createEncoder } = require('../../lib/encode.js')

const proto = ServerSentEvents.prototype
if (typeof proto.relay !== 'function') {
  proto.relay = function (res, options) {
    return relay(this, res, options)
  }
}
const streamMethods = {
  toReadableStream(options) {
    return toReadableStream(this, options)
  },
  toResponse(init, options) {
    return toResponse(this, init, options)
  },
  toNodeReadable(options) {
    return toNodeReadable(this, options)
  },
}
const nativeStream = proto.stream
if (!nativeStream.wired) {
  proto.stream = function (options) {
    const stream = nativeStream.call(this, options)
    if (typeof stream.toResponse !== 'function') Object.assign(stream, streamMethods)
    return stream
  }
  proto.stream.wired = true
}
