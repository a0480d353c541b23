// native-sse: one SSEClient (one connection pool) and one instance for every stream, as an SSR
// server relaying many token streams would hold them.
import { nativeClient, forward } from './native-common.mjs'

export const createClient = (config) => nativeClient(config, {}, forward)
