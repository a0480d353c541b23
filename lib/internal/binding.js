'use strict'
// The generated binding (binding.js, by `napi build --js binding.js`), loaded once per environment
// (the main thread, each worker) and handed the record decoder; the request registry gets the
// binding's keepAlive, the handle that keeps the process alive while requests are open. A binding that cannot be loaded is
// explained (which platform package was expected, and the fix for each package manager).

const { loadError } = require('./load-error.js')
const { createDecoder } = require('./records.js')
const { useKeepAlive } = require('./request-state.js')

let binding
try {
  binding = require('../../binding.js')
} catch (err) {
  throw loadError(err)
}
binding.init(createDecoder(binding))
useKeepAlive(binding.keepAlive)

module.exports = binding
