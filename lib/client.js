'use strict'
// SSEClient and ServerSentEvents, the two classes of the original front-end `sse` module, over the
// binding's NativeClient (the connection pool and the ClientManager, the registry of instances) and
// NativeInstance.

const { NativeClient } = require('./internal/binding.js')
const { SseError, fromNative, fromRecord, invalidOptions } = require('./errors.js')
const { clientOptions, requestMethod, resumableId } = require('./internal/options.js')
const { aborted } = require('./internal/request-state.js')
const { relay, resume } = require('./relay/relay.js')
const { SseRequest, start, follow } = require('./request.js')
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
    const generation = resumableId(options)
    return new SseStream((wrap) => start(this.#native, options, method, wrap, false, generation))
  }

  /**
   * Relays a request to a Node http.ServerResponse (Express `res`, Fastify `reply.raw`) as an
   * event stream: see lib/relay/relay.js and the README's "Relaying to browsers".
   */
  relay(res, options) {
    return relay(
      (opts, method, wrap, text, generation, diag) => start(this.#native, opts, method, wrap, text, generation, diag),
      res,
      options,
    )
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
  // The instance of the readers resume() starts (not one of `#instances`; made on first use, again
  // after clear()).
  #readers = null

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
    this.#readers = null
  }

  /**
   * Ends the client: aborts every open request (their `done` resolves 'abort'; a resumable
   * generation is left to its lease, so readers elsewhere are told it was interrupted), closes its
   * idle sockets and its store's connections, and refuses new requests and instances with
   * CLIENT_CLOSED. Idempotent.
   */
  async close() {
    // The binding aborts the requests and drops the connection pool, then closes the store.
    aborted(this.#native.close())
    this.#instances.clear()
    this.#readers = null
    await this.#native.closeStore()
  }

  /**
   * Resumes generation `id` from its log (docs/resuming.md), on any instance sharing the store:
   * - `resume(res, { id, lastEventId? })` writes to a Node response (404 for an unknown or expired
   *   id; `lastEventId` defaults to the request's Last-Event-ID header) and returns a RelayHandle;
   * - `resume({ id, lastEventId? })` resolves with an SseStream (`.toResponse()` for web handlers),
   *   or null for an unknown or expired id.
   * The events after `lastEventId` (all without one) are replayed, then the live ones follow until
   * the generation's terminal event.
   */
  resume(res, options) {
    this.#readers ??= this.#native.instance()
    const native = this.#readers
    if (options === undefined && res !== null && typeof res === 'object' && typeof res.write !== 'function') {
      return resumeStream(native, res)
    }
    return resume((opts, wrap) => follow(native, opts, wrap), res, options)
  }

  /**
   * Stops generation `id` wherever it runs (any instance sharing the store): its upstream request
   * is aborted within a second and every reader gets the terminal `stopped` event. Resolves with
   * false when the generation is unknown or already finished.
   */
  async stop(id) {
    if (typeof id !== 'string') throw invalidOptions(`stop: id must be a string, got ${typeof id}`)
    const reply = JSON.parse(await this.#native.stop(id))
    if (reply.code !== undefined) throw fromRecord(reply)
    return reply.stopped
  }

  /**
   * The client's live counters since it was made: requests started and open, events and body
   * bytes delivered, reconnects, errors by code. Kept natively (src/stats.rs), once per network
   * read, so reading them is one call and keeping them costs no JS.
   */
  stats() {
    return this.#native.stats()
  }

  /** How many instances are registered. */
  get size() {
    return this.#instances.size
  }
}

/** resume({ id, lastEventId }): an SseStream of the log once it is found, or null. */
function resumeStream(native, options) {
  const { id, lastEventId } = options
  if (typeof id !== 'string') throw invalidOptions(`resume: id must be a string, got ${typeof id}`)
  if (lastEventId !== undefined && lastEventId !== null && typeof lastEventId !== 'string') {
    throw invalidOptions(`resume: lastEventId must be a string, got ${typeof lastEventId}`)
  }
  // An empty id (an empty Last-Event-ID header) is no id: replay from the start.
  const after = lastEventId === '' || lastEventId === null ? undefined : lastEventId
  const stream = new SseStream((wrap) => follow(native, { generation: id, lastEventId: after, text: false }, wrap))
  return stream.ready.then(
    () => stream,
    (err) => {
      if (err instanceof SseError && (err.code === 'NOT_FOUND' || err.code === 'FINISHED')) return null
      throw err
    },
  )
}

/** Instance ids are whole numbers from 1 up to 2**32 - 1 (the binding's u32). */
const isId = (id) => Number.isInteger(id) && id > 0 && id <= 0xffffffff

module.exports = { SSEClient, ServerSentEvents }
