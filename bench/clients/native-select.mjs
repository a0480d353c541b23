// native-sse reading an OpenAI-shaped stream for its content with `select`: the pointer is
// evaluated on the reader thread and onMessage gets the token text (no JSON on the JS thread).
import { nativeClient, forward, SELECT_CONTENT } from './native-common.mjs'

export const createClient = (config) => nativeClient(config, SELECT_CONTENT, forward)
