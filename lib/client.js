'use strict'
// SSEClient and ServerSentEvents, the two classes of the original front-end `sse` module, over the
// binding's NativeClient (the connection pool and the ClientManager, the registry of instances) and
// NativeInstance.

const { NativeClient } = require('./internal/binding.js')
const { fromNative } = require('./errors.js')
const { clientOptions, requestMethod } = require('./internal/options.js')
const { aborted } = require('./internal/request-state.js')
const { relay } = require('./relay/relay.js')
const { SseRequest, start } = require('./request.js')
const { SseStream } = require('./stream.js')

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

  /** A streaming POST (the original module's `post`): an object or array `body` is sent as JSON. */
  post(options) {
    return new SseRequest(start(this.#native, options, 'POST'))
  }

  /** A streaming request with any of GET, POST, PUT, PATCH, DELETE (default POST). */
  request(options) {
    return new SseRequest(start(this.#native, options, requestMethod(options)))
  }

  /** The same request as `request` (POST unless `method` says otherwise), as an async iterator. */
  stream(options) {
    const method = requestMethod(options)
    return new SseStream((wrap) => start(this.#native, options, method, wrap))
  }

  /**
   * Relays a request to a Node http.ServerResponse (Express `res`, Fastify `reply.raw`) as an
   * event stream: see lib/relay/relay.js and the README's "Relaying to browsers".
   */
  relay(res, options) {
    return relay((opts, method, wrap, text) => start(this.#native, opts, method, wrap, text), res, options)
  }

  /** Aborts every open request of this instance. */
  abortAll() {
    aborted(this.#native.abortAll())
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
      throw fromNative(err)
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
    aborted(ids)
    return true
  }

  /** Aborts everything and unregisters every instance. */
  clear() {
    aborted(this.#native.clear())
  }

  /** How many instances are registered. */
  get size() {
    return this.#native.size
  }
}

/** Instance ids are whole numbers from 1 up to 2**32 - 1 (the binding's u32). */
const isId = (id) => Number.isInteger(id) && id > 0 && id <= 0xffffffff

module.exports = { SSEClient, ServerSentEvents }
