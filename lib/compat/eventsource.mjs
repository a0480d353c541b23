import cjs from './eventsource.js'

export const { EventSource, ErrorEvent } = cjs
export default cjs.EventSource
