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
  // The registered instances by id. Held here, not by the binding: an instance points back at its
  // client, and a cycle through JS objects is collected once nobody references the client.
  #instances = new Map()

  constructor(defaults) {
    const native = clientOptions(defaults)
    try {
      this.#native = new NativeClient(native)
    } catch (err) {
      throw fromNative(err)
    }
  }

  /** A new registered instance with a unique numeric id. Throws CLIENT_CLOSED after close(). */
  create() {
    let native
    try {
      native = this.#native.instance()
    } catch (err) {
      throw fromNative(err)
    }
    const sse = new ServerSentEvents(native, this)
    this.#instances.set(native.id, sse)
    return sse
  }

  /** The registered instance with this id, or null. */
  get(id) {
    if (!isId(id)) return null
    return this.#instances.get(id) ?? null
  }

  /**
   * Aborts the instance's open requests and unregisters it; it refuses new requests from then on
   * (INSTANCE_DELETED). False if it was not registered here.
   */
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
    this.#instances.delete(id)
    aborted(ids)
    return true
  }

  /** Aborts everything and unregisters every instance (each refuses new requests from then on). */
  clear() {
    aborted(this.#native.clear())
    this.#instances.clear()
  }

  /**
   * Ends the client: aborts every open request (their `done` resolves 'abort'), closes its idle
   * sockets and refuses new requests and instances with CLIENT_CLOSED. Idempotent.
   */
  async close() {
    // The binding aborts the requests and drops the connection pool; whatever else the client comes
    // to own is closed here too.
    aborted(this.#native.close())
    this.#instances.clear()
  }

  /** How many instances are registered. */
  get size() {
    return this.#instances.size
  }
}

/** Instance ids are whole numbers from 1 up to 2**32 - 1 (the binding's u32). */
const isId = (id) => Number.isInteger(id) && id > 0 && id <= 0xffffffff

module.exports = { SSEClient, ServerSentEvents }
