export * from './fetch-event-source.js'
