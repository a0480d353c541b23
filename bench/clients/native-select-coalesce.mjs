// native-sse reading an OpenAI-shaped stream for its content with `select` and `coalesce: 16`: the
// pointer is evaluated on the reader thread, and the JS thread is woken at most once per 16 ms for
// these streams, with every event that arrived meanwhile (not once per network read).
import { nativeClient, forward, SELECT_CONTENT } from './native-common.mjs'

export const createClient = (config) => nativeClient(config, { ...SELECT_CONTENT, coalesce: 16 }, forward)
