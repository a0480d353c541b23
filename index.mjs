import cjs from './index.js'

export const { SSEClient, ServerSentEvents, SseRequest, SseStream, SseError, isSseError, encodeEvent, encodeComment } =
  cjs
export default cjs
