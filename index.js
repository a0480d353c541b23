'use strict'
// native-sse: Server-Sent Events over POST (and any method) for Node.js and Electron. The JS module
// (lib/) owns everything a user can read; the Rust binding (binding.js, src/) does the network,
// parsing and reconnects off the JS thread and hands events over in batches.

const { SSEClient, ServerSentEvents } = require('./lib/client.js')
const { SseError, isSseError } = require('./lib/errors.js')
const { SseRequest } = require('./lib/request.js')
const { SseStream } = require('./lib/stream.js')

module.exports = { SSEClient, ServerSentEvents, SseRequest, SseStream, SseError, isSseError }
