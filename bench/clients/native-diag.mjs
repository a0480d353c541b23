// native-sse with a subscriber on every diagnostics channel and on the `native-sse:request` tracing
// channel (each does nothing): what observing every request costs, next to `native`, which has none.
import dc from 'node:diagnostics_channel'
import { createClient as createNative } from './native.mjs'

const NAMES = ['start', 'open', 'reconnect', 'error', 'end'].map((n) => `native-sse:request:${n}`)
const noop = () => {}

export function createClient(options) {
  for (const name of NAMES) dc.subscribe(name, noop)
  for (const name of ['relay:start', 'relay:end', 'log:begin', 'log:end', 'log:resume']) {
    dc.subscribe(`native-sse:${name}`, noop)
  }
  const tracing = dc.tracingChannel('native-sse:request')
  tracing.subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop })
  return createNative(options)
}
