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
  'ABORTED',
  'CALLBACK_THREW',
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

// napi-rs's conversion of an options object names the field: "... on RequestOptions.timeout".
const NAPI_EXPECTED = {
  StringExpected: 'a string',
  NumberExpected: 'a number',
  BooleanExpected: 'a boolean',
  ObjectExpected: 'an object',
  ArrayExpected: 'an array',
}

function typeName(value) {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  return typeof value
}

/**
 * An error thrown by the binding for the user's input, as an SseError: the core's own codes pass
 * through; napi-rs's type errors become INVALID_OPTIONS naming the option. Anything else is an
 * internal failure and is rethrown as it is.
 */
function fromNative(err, given) {
  if (err instanceof SseError) return err
  if (CODES.has(err?.code)) return new SseError(err.code, err.message)
  const expected = NAPI_EXPECTED[err?.code] ?? (err?.code === 'InvalidArg' ? 'of another type' : undefined)
  const field = /on \w+\.(\w+)$/.exec(err?.message ?? '')?.[1]
  if (expected !== undefined && field !== undefined) {
    return invalidOptions(`${field} must be ${expected}, got ${typeName(given?.[field])}`)
  }
  return err
}

module.exports = { SseError, isSseError, fromRecord, fromNative, invalidOptions, invalidUrl, typeName }
