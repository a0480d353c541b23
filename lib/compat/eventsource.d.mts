import { EventSource } from './eventsource.js'

export * from './eventsource.js'
export default EventSource
