import cjs from './otel.js'

export const { instrument } = cjs
