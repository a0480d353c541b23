'use strict'
// The generated binding (binding.js, by `napi build --js binding.js`), loaded once per environment
// (the main thread, each worker) and handed the batch decoder.

const { deliver } = require('./delivery.js')

const binding = require('../binding.js')
binding.init(deliver)

module.exports = binding
