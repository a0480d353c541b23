import { createRequire } from 'node:module'
const { fetchEventSource, EventStreamContentType } = createRequire(import.meta.url)('./fetch-event-source.js')
export { fetchEventSource, EventStreamContentType }
