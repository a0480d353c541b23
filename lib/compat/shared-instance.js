'use strict'
// The drop-in modules' ServerSentEvents: one per SSEClient, made on first use (a registered
// instance per EventSource or per fetchEventSource call would pile up in the client's registry).

const { SSEClient } = require('../client.js')

const instances = new WeakMap()
let defaultClient = null

/** The shared instance of `client` (an SSEClient), or of a default client when it is undefined. */
function sharedInstance(client) {
  if (client === undefined) {
    defaultClient ??= new SSEClient()
    client = defaultClient
  } else if (!(client instanceof SSEClient)) {
    throw new TypeError('init.client must be an SSEClient')
  }
  let sse = instances.get(client)
  // A shared instance that the user's clear() removed refuses requests (INSTANCE_DELETED): make
  // another.
  if (sse === undefined || client.get(sse.id) !== sse) {
    sse = client.create()
    instances.set(client, sse)
  }
  return sse
}

module.exports = { sharedInstance }
