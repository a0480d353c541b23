// Until the JS module (issue 9) attaches them as methods, this puts the relay and the stream adapters
// where the public API will have them: `sse.relay(res, options)` on ServerSentEvents.prototype, and
// `toReadableStream()`, `toResponse()`, `toNodeReadable()` on every stream `sse.stream()` returns.
// wire-relay.mjs applies it to this checkout; a process that loads native-sse from elsewhere (the
// Next.js example's node_modules) preloads this file with WIRE_NATIVE_SSE=<dir of that package>
// (`node -r`). The lead deletes both once the methods are real.
'use strict'
const path = require('node:path')

function wire(dir) {
  const { ServerSentEvents } = require(path.join(dir, 'index.js'))
  const { relay } = require(path.join(dir, 'lib/relay.js'))
  const { toReadableStream, toResponse, toNodeReadable } = require(path.join(dir, 'lib/adapters.js'))
  const proto = ServerSentEvents.prototype
  if (typeof proto.relay !== 'function') {
    proto.relay = function (res, options) {
      return relay(this, res, options)
    }
  }
  const methods = {
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
      if (typeof stream.toResponse !== 'function') Object.assign(stream, methods)
      return stream
    }
    proto.stream.wired = true
  }
}

if (process.env.WIRE_NATIVE_SSE) wire(process.env.WIRE_NATIVE_SSE)

module.exports = { wire }
