'use strict'
// SSEClient and ServerSentEvents, the seed module's two classes, over the binding's NativeClient
// (the connection pool and the seed's ClientManager, the registry of instances) and NativeInstance.

const { NativeClient } = require('./native.js')
const delivery = require('./delivery.js')
const { fromNative, invalidOptions, typeName } = require('./errors.js')
const { clientOptions } = require('./options.js')
const { SseRequest, start } = require('./request.js')
const { SseStream } = require('./stream.js')

const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'])

/** An SSE instance: sends streaming requests and can abort all of them at once. */
class ServerSentEvents {
  #native
  #client

  /** Made by `SSEClient.create()`, not by users. */
  constructor(native, client) {
    this.#native = native
    this.#client = client
  }

  /** The instance's id, unique within its SSEClient: `client.get(id)` returns this instance. */
  get id() {
    return this.#native.id
  }

  /** Whether this instance was made by `client` (SSEClient.delete only removes its own). */
  belongsTo(client) {
    return this.#client === client
  }

  /** A streaming POST (the seed's `post`): an object or array `body` is sent as JSON. */
  post(options) {
    return new SseRequest(start(this.#native, options, 'POST'))
  }

  /** A streaming request with any of GET, POST, PUT, PATCH, DELETE (default POST). */
  request(options) {
    let method = 'POST'
    if (options !== null && typeof options === 'object') {
      let given
      try {
        given = options.method
      } catch (err) {
        throw invalidOptions(`cannot read option method: ${err?.message ?? String(err)}`)
      }
      if (given !== undefined && given !== null) {
        if (typeof given !== 'string' || !METHODS.has(given.toUpperCase())) {
          throw invalidOptions(
            `method must be one of GET, POST, PUT, PATCH, DELETE, got ${typeof given === 'string' ? JSON.stringify(given) : typeName(given)}`,
          )
        }
        method = given.toUpperCase()
      }
    }
    return new SseRequest(start(this.#native, options, method))
  }

  /** The same request as `post`, as an async iterator of messages. */
  stream(options) {
    return new SseStream((wrap) => start(this.#native, options, 'POST', wrap))
  }

  /** Aborts every open request of this instance. */
  abortAll() {
    delivery.aborted(this.#native.abortAll())
  }
}

/** Creates and manages SSE instances. Options given here are defaults for every request. */
class SSEClient {
  #native

  constructor(defaults) {
    const native = clientOptions(defaults)
    try {
      this.#native = new NativeClient(native)
    } catch (err) {
      throw fromNative(err, native)
    }
  }

  /** A new registered instance with a unique numeric id. */
  create() {
    const native = this.#native.instance()
    const sse = new ServerSentEvents(native, this)
    this.#native.register(native, sse)
    return sse
  }

  /** The registered instance with this id, or null. */
  get(id) {
    if (!isId(id)) return null
    return this.#native.get(id)
  }

  /** Aborts the instance's open requests and unregisters it. False if it was not registered here. */
  delete(sse) {
    let id = sse
    if (sse instanceof ServerSentEvents) {
      if (!sse.belongsTo(this)) return false
      id = sse.id
    } else if (!isId(sse)) {
      return false
    }
    const ids = this.#native.remove(id)
    if (ids === null) return false
    delivery.aborted(ids)
    return true
  }

  /** Aborts everything and unregisters every instance. */
  clear() {
    delivery.aborted(this.#native.clear())
  }

  /** How many instances are registered. */
  get size() {
    return this.#native.size
  }
}

/** Instance ids are whole numbers from 1 up to 2**32 - 1 (the binding's u32). */
const isId = (id) => Number.isInteger(id) && id > 0 && id <= 0xffffffff

module.exports = { SSEClient, ServerSentEvents }
