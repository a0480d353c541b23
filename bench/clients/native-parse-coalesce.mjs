// native-sse reading an OpenAI-shaped stream for its content with JSON.parse of each event's data on
// the JS thread, with `coalesce: 16` (fewer wake-ups, the same parse): what `select` is compared with
// once the wake-ups are gone from both.
import { nativeClient, parseContent } from './native-common.mjs'

export const createClient = (config) => nativeClient(config, { coalesce: 16 }, parseContent)
