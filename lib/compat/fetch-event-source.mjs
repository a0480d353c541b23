import cjs from './fetch-event-source.js'

export const { fetchEventSource, EventStreamContentType } = cjs
