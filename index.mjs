import { createRequire } from 'node:module'
const { SSEClient, ServerSentEvents, SseRequest } = createRequire(import.meta.url)('./index.js')
export { SSEClient, ServerSentEvents, SseRequest }
