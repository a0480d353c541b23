'use strict'
// SseError: what onError receives, what `done` rejects with, and what post()/request()/stream() and
// the SSEClient constructor throw for bad input. One class, so `instanceof` and isSseError() work
// for every error the package produces; `code` is one of API.md's strings.

const CODES = new Set([
  'TIMEOUT',
  'HTTP_STATUS',
  'BAD_CONTENT_TYPE',
  'NETWORK',
  'TLS',
  'INVALID_URL',
  'INVALID_OPTIONS',
  'EVENT_TOO_LARGE',
  'REDIRECT',
  'BAD_CONTENT_ENCODING',
  'CLIENT_CLOSED',
  'INSTANCE_DELETED',
  'CALLBACK_THREW',
  'STORE',
  'STORE_FENCED',
  'STORE_CLOSED',
  'GENERATION_EXISTS',
  'RESUME_GAP',
  'NOT_FOUND',
  'FINISHED',
  'PROVIDER_ERROR',
])

class SseError extends Error {
  constructor(code, message, fields = {}) {
    super(message, fields.cause === undefined ? undefined : { cause: fields.cause })
    this.name = 'SseError'
    this.code = code
    if (fields.status != null) this.status = fields.status
    if (fields.body != null) this.body = fields.body
    this.attempt = fields.attempt ?? 0
    this.willRetry = fields.willRetry ?? false
  }
}

function isSseError(value) {
  return value instanceof SseError
}

/** From the JSON fields of an ERROR or FAIL record (src/error.rs error_json). */
function fromRecord(fields) {
  return new SseError(fields.code, fields.message, fields)
}

const invalidOptions = (message) => new SseError('INVALID_OPTIONS', message)
const invalidUrl = (message) => new SseError('INVALID_URL', message)

function typeName(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * An error thrown by the binding for the user's input, as an SseError (the core's codes pass
 * through). The options' types were checked before the call (internal/options.js), so anything
 * else is an internal failure and is rethrown as it is.
 */
function fromNative(err) {
  if (err instanceof SseError) return err
  if (CODES.has(err?.code)) return new SseError(err.code, err.message)
  return err
}

module.exports = { SseError, isSseError, fromRecord, fromNative, invalidOptions, invalidUrl, typeName }
