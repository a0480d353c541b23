// native-sse reading an OpenAI-shaped stream for its content the usual way: JSON.parse of each
// event's data on the JS thread (what `select` replaces; bench/clients/native-select.mjs).
import { nativeClient, parseContent } from './native-common.mjs'

export const createClient = (config) => nativeClient(config, {}, parseContent)
