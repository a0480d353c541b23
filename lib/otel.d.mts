export * from './otel.js'
