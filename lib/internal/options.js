'use strict'
// Reads the user's option objects once (each property read once, inside a try: a getter or a Proxy
// trap that throws is INVALID_OPTIONS, not a crash) and splits them: callbacks and `signal` stay
// here, the rest goes to the binding. Headers become flat [name, value, ...] pairs and the body a
// string or bytes with the content-type it implies.
//
// The options are declared once, in src/options.rs (with their docs; binding.d.ts is generated
// from it), and converted there into the core's options, which validate and default them. The
// tables below give the JS type of each field passed through, so that a wrong type is an
// INVALID_OPTIONS naming the option before it reaches the binding; __test__/core/options-drift
// checks them against binding.d.ts, index.d.ts and the README's option tables.

const { invalidOptions, invalidUrl, typeName } = require('../errors.js')

const CALLBACKS = ['onOpen', 'onMessage', 'onError', 'onClose', 'onSnapshot']
// 'pem' is a string or binary data.
const REQUEST_FIELDS = {
  timeout: 'number',
  eventTimeout: 'number',
  reconnectCount: 'number',
  reconnectAfterEvents: 'string',
  lastEventId: 'string',
  doneData: 'string',
  strictContentType: 'boolean',
  retryDelay: 'number',
  maxEventSize: 'number',
  select: 'select',
  selectMissing: 'string',
  accumulate: 'string',
  snapshotEvery: 'number',
  coalesce: 'number',
}
const CLIENT_FIELDS = {
  baseUrl: 'string',
  allowAbsoluteUrls: 'boolean',
  http2: 'boolean',
  timeout: 'number',
  reconnectCount: 'number',
  retryDelay: 'number',
  maxEventSize: 'number',
  ca: 'pem',
  cert: 'pem',
  key: 'pem',
  proxy: 'string',
  store: 'store',
}
// The `store` client option given as an object (a string is its URL).
const STORE_FIELDS = {
  url: 'string',
  prefix: 'string',
  ttl: 'number',
  maxLen: 'number',
  lease: 'number',
  maxBytes: 'number',
  ca: 'pem',
}
const ARTICLE = {
  number: 'a number',
  string: 'a string',
  boolean: 'a boolean',
  pem: 'a string or binary data',
  store: 'a redis:// URL or an object { url, prefix, ttl, maxLen, lease, maxBytes, ca }',
  select: 'a string or an object of strings',
}

/** Copies the fields of `table` that are set from `options` into `native`, checking their type. */
function passFields(options, table, native, prefix = '') {
  for (const name of Object.keys(table)) {
    let value = read(options, name)
    if (value === undefined || value === null) continue
    const type = table[name]
    if (type === 'store') {
      if (typeof value === 'object' && !Array.isArray(value)) {
        const store = {}
        passFields(value, STORE_FIELDS, store, `${name}.`)
        value = store
      } else if (typeof value !== 'string') {
        throw invalidOptions(`${prefix}${name} must be ${ARTICLE.store}, got ${typeName(value)}`)
      }
    } else if (type === 'select') {
      value = selectOption(value, `${prefix}${name}`)
    } else if (type === 'pem') {
      if (ArrayBuffer.isView(value) && !(value instanceof Uint8Array)) {
        value = new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
      }
      if (typeof value !== 'string' && !(value instanceof Uint8Array)) {
        throw invalidOptions(`${prefix}${name} must be ${ARTICLE.pem}, got ${typeName(value)}`)
      }
    } else if (typeof value !== type) {
      throw invalidOptions(`${prefix}${name} must be ${ARTICLE[type]}, got ${typeName(value)}`)
    }
    native[name] = value
  }
}

/**
 * `select`: a JSON Pointer, or named pointers `{ name: pointer }` passed as flat [name, pointer, ...]
 * pairs in the object's order (the binding checks the names and the pointers).
 */
function selectOption(value, name) {
  if (typeof value === 'string') return value
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalidOptions(`${name} must be ${ARTICLE.select}, got ${typeName(value)}`)
  }
  const pairs = []
  for (const key of Object.keys(value)) {
    const pointer = read(value, key)
    if (typeof pointer !== 'string') throw invalidOptions(`${name}.${key} must be a string, got ${typeName(pointer)}`)
    pairs.push(key, pointer)
  }
  return pairs
}

function read(options, name) {
  try {
    return options[name]
  } catch (err) {
    throw invalidOptions(`cannot read option ${name}: ${err?.message ?? String(err)}`)
  }
}

function checkObject(options, what) {
  if (options === undefined) throw invalidOptions(`${what} are required: { url, body, onMessage, ... }`)
  if (typeof options !== 'object' || options === null) {
    throw invalidOptions(`${what} must be an object, got ${typeName(options)}`)
  }
}

/** Headers as an object of strings, a `Headers`, a `Map` or an array of [name, value] entries. */
function headerPairs(headers, what = 'headers') {
  if (headers == null) return undefined
  if (typeof headers !== 'object')
    throw invalidOptions(`${what} must be an object of strings, got ${typeName(headers)}`)
  const flat = []
  const add = (name, value) => {
    if (typeof name !== 'string') throw invalidOptions(`${what}: a header name must be a string, got ${typeName(name)}`)
    if (value === undefined || value === null) return
    if (typeof value !== 'string') {
      throw invalidOptions(`header ${JSON.stringify(name)} must be a string, got ${typeName(value)}`)
    }
    flat.push(name, value)
  }
  try {
    if (typeof headers.entries === 'function' && (headers instanceof Map || isHeaders(headers))) {
      for (const [name, value] of headers.entries()) add(name, value)
    } else if (Array.isArray(headers)) {
      for (const entry of headers) {
        if (!Array.isArray(entry) || entry.length !== 2) {
          throw invalidOptions(`${what} given as an array must hold [name, value] pairs`)
        }
        add(entry[0], entry[1])
      }
    } else {
      // Own enumerable properties only: inherited ones are not the caller's headers.
      for (const name of Object.keys(headers)) add(name, headers[name])
    }
  } catch (err) {
    if (err?.code === 'INVALID_OPTIONS') throw err
    throw invalidOptions(`cannot read ${what}: ${err?.message ?? String(err)}`)
  }
  return flat
}

const isHeaders = (value) => typeof Headers === 'function' && value instanceof Headers

/**
 * The body as the binding takes it: { body: string | Uint8Array, bodyType?: string }. Objects and
 * arrays are JSON (JSON.stringify: `toJSON`, dropped `undefined` and key order are what fetch users
 * get); binary data is sent as bytes without a copy here; URLSearchParams as a form.
 */
function encodeBody(body) {
  if (body === undefined || body === null) return {}
  if (typeof body === 'string') return { body }
  if (typeof body !== 'object') {
    throw invalidOptions(`body must be an object, an array, a string or binary data, got ${typeName(body)}`)
  }
  if (body instanceof Uint8Array) return { body }
  if (ArrayBuffer.isView(body)) return { body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) }
  if (body instanceof ArrayBuffer || (typeof SharedArrayBuffer === 'function' && body instanceof SharedArrayBuffer)) {
    return { body: new Uint8Array(body) }
  }
  if (body instanceof URLSearchParams) {
    return { body: body.toString(), bodyType: 'application/x-www-form-urlencoded;charset=UTF-8' }
  }
  // Read before the request starts (asynchronously): `pending` resolves with the bytes. A Blob's
  // type is its content-type, as fetch sends it; a FormData is multipart/form-data, encoded by
  // fetch's own Response (its boundary in the content-type).
  if (typeof Blob === 'function' && body instanceof Blob) {
    return { pending: readBody(() => body.arrayBuffer()), bodyType: body.type === '' ? undefined : body.type }
  }
  if (typeof FormData === 'function' && body instanceof FormData) {
    let response
    try {
      response = new Response(body)
    } catch (err) {
      throw invalidOptions(`body FormData cannot be encoded: ${err?.message ?? String(err)}`)
    }
    return { pending: readBody(() => response.arrayBuffer()), bodyType: response.headers.get('content-type') }
  }
  if (body instanceof Map || body instanceof Set) {
    throw invalidOptions(`body of type ${body.constructor.name} cannot be sent: JSON would send it as {}`)
  }
  let json
  try {
    json = JSON.stringify(body)
  } catch (err) {
    throw invalidOptions(`body cannot be sent as JSON: ${err?.message ?? String(err)}`)
  }
  if (typeof json !== 'string') throw invalidOptions('body cannot be sent as JSON')
  return { body: json, bodyType: 'application/json' }
}

/** The bytes `read()` resolves with, as a Uint8Array (a rejection carries the reason). */
function readBody(read) {
  return Promise.resolve()
    .then(read)
    .then((buffer) => new Uint8Array(buffer))
}

function checkCallback(name, value) {
  if (value != null && typeof value !== 'function') {
    throw invalidOptions(`${name} must be a function, got ${typeName(value)}`)
  }
  return value ?? undefined
}

function checkSignal(signal) {
  if (signal == null) return undefined
  let ok = false
  try {
    ok =
      typeof signal === 'object' && typeof signal.addEventListener === 'function' && typeof signal.aborted === 'boolean'
  } catch {
    ok = false
  }
  if (!ok) throw invalidOptions(`signal must be an AbortSignal, got ${typeName(signal)}`)
  return signal
}

/**
 * Splits request options: { native, callbacks, signal, pending } (`pending`: a Promise of the body's
 * bytes when it must be read first, a Blob or FormData). `method` is the request's method
 * (post() and stream() always send POST).
 */
function requestOptions(options, method) {
  checkObject(options, 'options')
  const url = read(options, 'url')
  if (url === undefined || url === null) throw invalidUrl('url is required')
  if (typeof url !== 'string') throw invalidOptions(`url must be a string, got ${typeName(url)}`)
  const { pending, ...body } = encodeBody(read(options, 'body'))
  const native = { url, method, headers: headerPairs(read(options, 'headers')), ...body }
  passFields(options, REQUEST_FIELDS, native)
  const callbacks = {}
  for (const name of CALLBACKS) callbacks[name] = checkCallback(name, read(options, name))
  return { native, callbacks, signal: checkSignal(read(options, 'signal')), pending }
}

function clientOptions(options) {
  if (options === undefined || options === null) return undefined
  checkObject(options, 'client options')
  const native = { headers: headerPairs(read(options, 'headers')) }
  passFields(options, CLIENT_FIELDS, native)
  return native
}

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])

/** request()'s `method` option, upper-cased: one of GET, POST, PUT, PATCH, DELETE (default POST). */
function requestMethod(options) {
  if (options === null || typeof options !== 'object') return 'POST'
  const given = read(options, 'method')
  if (given === undefined || given === null) return 'POST'
  if (typeof given !== 'string' || !METHODS.has(given.toUpperCase())) {
    const got = typeof given === 'string' ? JSON.stringify(given) : typeName(given)
    throw invalidOptions(`method must be one of GET, POST, PUT, PATCH, DELETE, got ${got}`)
  }
  return given.toUpperCase()
}

/**
 * The `resumable` option: `{ id }`, the generation id (its log's name in the store). Returns the id,
 * or undefined when the option is not set.
 */
function resumableId(options) {
  if (options === null || typeof options !== 'object') return undefined
  const resumable = read(options, 'resumable')
  if (resumable === undefined || resumable === null || resumable === false) return undefined
  if (typeof resumable !== 'object') {
    throw invalidOptions(`resumable must be an object { id }, got ${typeName(resumable)}`)
  }
  const id = read(resumable, 'id')
  if (typeof id !== 'string') throw invalidOptions(`resumable.id must be a string, got ${typeName(id)}`)
  return id
}

module.exports = {
  requestOptions,
  requestMethod,
  clientOptions,
  resumableId,
  REQUEST_FIELDS,
  CLIENT_FIELDS,
  STORE_FIELDS,
}
