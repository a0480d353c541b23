// Type-checked with no @types/node, no DOM library and exactOptionalPropertyTypes
// (__test__/tsconfig.bare.json): the ESM entry's types stand on their own, and optional fields
// accept `undefined`, as the runtime does.
import { SSEClient, isSseError, type RequestOptions, type SseEnd } from '../index.mjs'
import nativeSse from '../index.mjs'

const sse = new SSEClient({ baseUrl: undefined, timeout: undefined }).create()
const options: RequestOptions = { url: 'x', body: undefined, headers: undefined, onMessage: undefined }
const end: Promise<SseEnd> = sse.post(options).done
const same: typeof SSEClient = nativeSse.SSEClient
void [end, same, isSseError]
