import { createRequire } from 'node:module'

const cjs = createRequire(import.meta.url)('./index.js')

export const { SSEClient, ServerSentEvents, SseRequest, SseStream, SseError, isSseError } = cjs
export default cjs
