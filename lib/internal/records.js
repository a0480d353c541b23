'use strict'
// The record decoder: the binding calls `deliver(texts, words, metaLength)` with a batch of records
// of every open request of this environment: `words` holds the records' meta, then, for each text,
// where its records end in the meta. `words` is the binding's one reusable array, overwritten by
// the next delivery: read it during this call only. The protocol is written down once, in src/records.rs,
// whose record kinds the binding exports (KIND_*, NONE); __test__/fixtures/records.json pins it
// from both sides. This module turns records into the state a user reads and the callbacks' calls.

const { fromRecord } = require('../errors.js')
const { lookup, call, settle, OPEN: OPENED, CONNECTING } = require('./request-state.js')
const { opened, reconnecting, logOpened } = require('./diagnostics.js')

/** The `deliver` function for the binding's kinds (`binding.KIND_*`, `binding.NONE`). */
function createDecoder(kinds) {
  const { KIND_OPEN: OPEN, KIND_MESSAGE: MESSAGE, KIND_ERROR: ERROR, KIND_END: END } = kinds
  const {
    KIND_FAIL: FAIL,
    KIND_ID: ID,
    KIND_TEXT: TEXT,
    KIND_LOG: LOG,
    KIND_FINAL: FINAL,
    KIND_SNAPSHOT: SNAPSHOT,
    NONE,
  } = kinds

  return function deliver(texts, meta, metaLength) {
    const n = metaLength
    let i = 0
    let pos = 0
    let segment = 0
    let text = texts[0]
    let segmentEnd = meta[n]
    let state
    let stateId = -1
    while (i < n) {
      while (i >= segmentEnd) {
        segment++
        text = texts[segment]
        segmentEnd = meta[n + segment]
        pos = 0
      }
      const kind = meta[i]
      const id = meta[i + 1]
      if (id !== stateId) {
        state = lookup(id)
        stateId = id
      }
      // Checked per record: a callback earlier in this batch may have aborted this request.
      const live = state !== undefined && !state.silent
      if (kind === MESSAGE) {
        const dataLen = meta[i + 2]
        const eventLen = meta[i + 3]
        const idLen = meta[i + 4]
        const retryHigh = meta[i + 5]
        const retryLow = meta[i + 6]
        i += 7
        const start = pos
        pos += dataLen
        let event = 'message'
        if (eventLen !== NONE) {
          if (live) event = text.slice(pos, pos + eventLen)
          pos += eventLen
        }
        if (idLen !== NONE) {
          if (live) state.lastEventId = text.slice(pos, pos + idLen)
          pos += idLen
        }
        if (!live) continue
        const data = text.slice(start, start + dataLen)
        const msg =
          retryHigh === NONE
            ? { data, event, id: state.lastEventId }
            : { data, event, id: state.lastEventId, retry: retryHigh * 0x100000000 + retryLow }
        call(state, state.onMessage, msg)
      } else if (kind === END) {
        const how = meta[i + 2]
        i += 3
        if (live) settle(state, undefined, how === 1 ? 'done' : 'end')
      } else {
        const len = meta[i + 2]
        i += 3
        const value = text.slice(pos, pos + len)
        pos += len
        if (!live) continue
        if (kind === OPEN) {
          state.readyState = OPENED
          const info = JSON.parse(value)
          if (state.diag !== null) opened(state, info)
          call(state, state.onOpen, info)
        } else if (kind === TEXT) {
          call(state, state.onText, value)
        } else if (kind === ID) {
          state.lastEventId = value
        } else if (kind === ERROR) {
          const fields = JSON.parse(value)
          state.readyState = CONNECTING
          state.attempt = fields.attempt
          const err = fromRecord(fields)
          if (state.diag !== null) reconnecting(state, fields, err)
          call(state, state.onError, err)
          state.attempt = fields.attempt + 1
        } else if (kind === SNAPSHOT) {
          if (state.onSnapshot !== undefined) call(state, state.onSnapshot, JSON.parse(value))
        } else if (kind === FINAL) {
          // Parsed when `final` is read: a relay never reads it.
          state.finalText = value
        } else if (kind === LOG) {
          if (state.diag !== null) logOpened(state)
          call(state, state.onLog, value)
        } else if (kind === FAIL) {
          const fields = JSON.parse(value)
          // A resumable request's final error is already in its events (the terminal `error`).
          if (fields.inBand === true) state.inBandTerminal = true
          state.attempt = fields.attempt
          settle(state, fromRecord(fields), 'end')
        }
      }
    }
  }
}

module.exports = { createDecoder }
