import { createRequire } from 'node:module'
const { EventSource, ErrorEvent } = createRequire(import.meta.url)('./eventsource.js')
export { EventSource, ErrorEvent }
export default EventSource
