// Importing this wires sse.relay() and the stream adapters onto this checkout's module (see
// wire-relay.cjs), and re-exports the encoder the package will export.
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)
require('./wire-relay.cjs').wire(fileURLToPath(new URL('../..', import.meta.url)))
export const { encodeEvent, encodeComment, createEncoder } = require('../../lib/encode.js')
