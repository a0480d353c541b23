// native-sse/otel: OpenTelemetry spans for native-sse requests and relays (needs @opentelemetry/api).
import type { Tracer, TracerProvider } from '@opentelemetry/api'

/** Where `instrument()` gets its tracer: `tracer` wins; default the global tracer provider's. */
export interface InstrumentOptions {
  tracer?: Tracer | undefined
  tracerProvider?: TracerProvider | undefined
}

/**
 * Makes a span for every native-sse request and relay started from now on (see the README's
 * "OpenTelemetry"); returns a function that stops instrumenting.
 */
export declare function instrument(options?: InstrumentOptions): () => void
