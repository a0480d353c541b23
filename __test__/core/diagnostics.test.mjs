// diagnostics_channel: every channel of a request, a relay and a resumable log, with every field of
// their payloads, against real local servers; nothing is built for a request while nobody listens.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import dc from 'node:diagnostics_channel'
import http from 'node:http'
import binding from '../../binding.js'
import { SSEClient, SseError } from '../../index.mjs'
import { startServer, sse } from '../helpers/server.mjs'
import { downstream, startHttp } from '../helpers/relay.mjs'
import { startUpstream, readStream } from '../helpers/resumable.mjs'

const NAMES = [
  'native-sse:request:start',
  'native-sse:request:open',
  'native-sse:request:reconnect',
  'native-sse:request:error',
  'native-sse:request:end',
  'native-sse:relay:start',
  'native-sse:relay:end',
  'native-sse:log:begin',
  'native-sse:log:end',
  'native-sse:log:resume',
]
const TRACE = ['start', 'end', 'asyncStart', 'asyncEnd', 'error']

/** Subscribes to every channel and the tracing channel; `seen` holds [name, message] in order. */
function record() {
  const seen = []
  const subs = NAMES.map((name) => {
    const fn = (message) => seen.push([name.slice('native-sse:'.length), message])
    dc.subscribe(name, fn)
    return [name, fn]
  })
  const tracing = dc.tracingChannel('native-sse:request')
  const handlers = Object.fromEntries(TRACE.map((k) => [k, (ctx) => seen.push([`trace:${k}`, ctx])]))
  tracing.subscribe(handlers)
  return {
    seen,
    names: () => seen.map(([name]) => name),
    get: (name) => seen.filter(([n]) => n === name).map(([, m]) => m),
    stop() {
      for (const [name, fn] of subs) dc.unsubscribe(name, fn)
      tracing.unsubscribe(handlers)
    },
  }
}

const BODY = 'data: one\n\nid: 2\ndata: two\n\nevent: x\ndata: three\n\n'

test('a request that reconnects once then ends publishes start, reconnect, open and end with every field', async () => {
  let n = 0
  const upstream = await startServer((req, res) => {
    if (n++ === 0) return req.socket.destroy()
    sse(res, BODY)
  })
  const url = new URL(upstream.url)
  url.username = 'user'
  url.password = 'hunter2'
  url.search = '?key=sk-secret&model=m'
  const rec = record()
  try {
    const client = new SSEClient()
    const req = client.create().post({ url: url.href, body: { a: 1 }, retryDelay: 1 })
    assert.equal(await req.done, 'end')
    assert.deepEqual(rec.names(), [
      'request:start',
      'trace:start',
      'trace:end',
      'request:reconnect',
      'request:open',
      'request:end',
      'trace:asyncStart',
      'trace:asyncEnd',
    ])
    const where = { method: 'POST', origin: upstream.base, path: '/sse?key=***&model=***' }
    const [start] = rec.get('request:start')
    assert.deepEqual(start, {
      id: start.id,
      ...where,
      attempt: 0,
      resumable: undefined,
      relay: undefined,
      result: 'end',
    })
    assert.equal(typeof start.id, 'number')
    const id = start.id
    const [reconnect] = rec.get('request:reconnect')
    assert.ok(reconnect.error instanceof SseError)
    assert.equal(reconnect.error.code, 'NETWORK')
    assert.equal(typeof reconnect.delay, 'number')
    assert.ok(reconnect.delay >= 0 && reconnect.delay < 1000, `delay ${reconnect.delay}`)
    assert.deepEqual(reconnect, {
      id,
      ...where,
      attempt: 0,
      delay: reconnect.delay,
      code: 'NETWORK',
      status: undefined,
      error: reconnect.error,
    })
    assert.deepEqual(rec.get('request:open'), [{ id, ...where, attempt: 1, status: 200, httpVersion: '1.1' }])
    const [end] = rec.get('request:end')
    assert.ok(end.duration > 0)
    assert.deepEqual(end, {
      id,
      ...where,
      how: 'end',
      attempt: 1,
      events: 3,
      bytes: Buffer.byteLength(BODY),
      duration: end.duration,
      code: undefined,
    })
    // The tracing context is the start message, the same object throughout.
    for (const k of ['trace:start', 'trace:end', 'trace:asyncStart', 'trace:asyncEnd'])
      assert.equal(rec.get(k)[0], start)
    // Credentials never appear anywhere.
    assert.doesNotMatch(JSON.stringify(rec.seen.map(([, m]) => ({ ...m, error: undefined }))), /hunter2|sk-secret/)
  } finally {
    rec.stop()
    await upstream.close()
  }
})

test('a final error publishes request:error, then end with how "error", and the tracing error', async () => {
  const upstream = await startServer((req, res) => res.writeHead(404, { 'content-type': 'text/plain' }).end('no'))
  const rec = record()
  try {
    const req = new SSEClient().create().request({ url: upstream.url, method: 'GET' })
    const err = await req.done.then(
      () => assert.fail('resolved'),
      (e) => e,
    )
    assert.equal(err.code, 'HTTP_STATUS')
    assert.deepEqual(rec.names(), [
      'request:start',
      'trace:start',
      'trace:end',
      'request:error',
      'request:end',
      'trace:error',
      'trace:asyncStart',
      'trace:asyncEnd',
    ])
    const [start] = rec.get('request:start')
    const where = { id: start.id, method: 'GET', origin: upstream.base, path: '/sse' }
    assert.deepEqual(rec.get('request:error'), [{ ...where, attempt: 0, error: err }])
    const [end] = rec.get('request:end')
    assert.deepEqual(end, {
      ...where,
      how: 'error',
      attempt: 0,
      events: 0,
      bytes: 0,
      duration: end.duration,
      code: 'HTTP_STATUS',
    })
    assert.equal(start.error, err)
    assert.equal(start.result, 'error')
  } finally {
    rec.stop()
    await upstream.close()
  }
})

test('abort() publishes end with how "abort" and the events delivered before it', async () => {
  const upstream = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: a\n\ndata: b\n\n')
  })
  const rec = record()
  try {
    let req
    const two = new Promise((resolve) => {
      let got = 0
      req = new SSEClient().create().post({ url: upstream.url, onMessage: () => ++got === 2 && resolve() })
    })
    await two
    req.abort()
    assert.equal(await req.done, 'abort')
    const [end] = rec.get('request:end')
    assert.equal(end.how, 'abort')
    assert.equal(end.events, 2)
    assert.equal(end.bytes, Buffer.byteLength('data: a\n\ndata: b\n\n'))
    assert.equal(rec.get('request:start')[0].result, 'abort')
  } finally {
    rec.stop()
    await upstream.close()
  }
})

test('without subscribers a request builds nothing and asks the binding for nothing', async () => {
  const upstream = await startServer((req, res) => sse(res, BODY))
  const proto = binding.NativeInstance.prototype
  const { target, progress } = proto
  let calls = 0
  proto.target = function (...args) {
    calls++
    return target.apply(this, args)
  }
  proto.progress = function (...args) {
    calls++
    return progress.apply(this, args)
  }
  try {
    const sse = new SSEClient().create()
    assert.equal(await sse.post({ url: upstream.url }).done, 'end')
    assert.equal(calls, 0)
    // The same request with one subscriber does ask: the count above can fail.
    const fn = () => {}
    dc.subscribe('native-sse:request:end', fn)
    try {
      assert.equal(await sse.post({ url: upstream.url }).done, 'end')
    } finally {
      dc.unsubscribe('native-sse:request:end', fn)
    }
    assert.ok(calls > 0)
  } finally {
    proto.target = target
    proto.progress = progress
    await upstream.close()
  }
})

test('a relay publishes relay:start and relay:end around its request, which names the relay', async () => {
  const upstream = await startServer((req, res) => sse(res, BODY))
  const sseInstance = new SSEClient().create()
  let incoming
  const srv = await startHttp((req, res) => {
    incoming = req
    sseInstance.relay(res, { url: upstream.url })
  })
  const rec = record()
  try {
    const client = downstream(srv.url)
    await client.until((c) => c.ended)
    // relay:end follows the end of the response; wait for it without a timer.
    while (rec.get('relay:end').length === 0) await new Promise((resolve) => setImmediate(resolve))
    const [relayStart] = rec.get('relay:start')
    const [start] = rec.get('request:start')
    assert.equal(rec.names()[0], 'relay:start')
    assert.equal(start.relay, relayStart)
    assert.deepEqual(relayStart, { id: start.id, resumable: undefined, request: incoming })
    assert.ok(incoming instanceof http.IncomingMessage)
    const [relayEnd] = rec.get('relay:end')
    assert.ok(relayEnd.duration > 0)
    assert.deepEqual(relayEnd, {
      id: start.id,
      resumable: undefined,
      how: 'end',
      code: undefined,
      error: undefined,
      duration: relayEnd.duration,
      relay: relayStart,
    })
    assert.equal(rec.get('request:end')[0].events, 3)
  } finally {
    rec.stop()
    await srv.close()
    await upstream.close()
  }
})

test('a resumable relay publishes log:begin and log:end, and a resume log:resume', async () => {
  const upstream = await startUpstream({ count: 4, gapMs: 1 })
  const client = new SSEClient()
  const sseInstance = client.create()
  const srv = await startHttp((req, res) => {
    if (req.url.startsWith('/resume')) client.resume(res, { id: 'gen-1', lastEventId: '1' })
    else sseInstance.relay(res, { url: upstream.url, resumable: { id: 'gen-1' } })
  })
  const rec = record()
  try {
    await readStream(srv.url)
    while (rec.get('log:end').length === 0) await new Promise((resolve) => setImmediate(resolve))
    const [start] = rec.get('request:start')
    assert.equal(start.resumable, 'gen-1')
    assert.deepEqual(rec.get('log:begin'), [{ id: start.id, resumable: 'gen-1' }])
    assert.deepEqual(rec.get('log:end'), [{ id: start.id, resumable: 'gen-1', how: 'end', events: 4, code: undefined }])
    await readStream(`${srv.url}resume`)
    const [resume] = rec.get('log:resume')
    assert.deepEqual(resume, { id: resume.id, resumable: 'gen-1', lastEventId: '1' })
    assert.notEqual(resume.id, start.id)
    // A log reader is not an upstream request.
    assert.equal(rec.get('request:start').length, 1)
  } finally {
    rec.stop()
    await srv.close()
    await upstream.close()
    await client.close()
  }
})

test('doneData ends with how "done"; a callback that throws with how "error" and CALLBACK_THREW', async () => {
  const upstream = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: a\n\ndata: [DONE]\n\n')
  })
  const rec = record()
  try {
    const sseInstance = new SSEClient().create()
    assert.equal(await sseInstance.post({ url: upstream.url, doneData: '[DONE]' }).done, 'done')
    const [done] = rec.get('request:end')
    assert.equal(done.how, 'done')
    assert.equal(done.events, 1)
    const req = sseInstance.post({
      url: upstream.url,
      onMessage: () => {
        throw new Error('boom')
      },
      onError: () => {},
    })
    await assert.rejects(req.done, { code: 'CALLBACK_THREW' })
    const [, threw] = rec.get('request:end')
    assert.equal(threw.how, 'error')
    assert.equal(threw.code, 'CALLBACK_THREW')
    const [error] = rec.get('request:error')
    assert.equal(error.error.code, 'CALLBACK_THREW')
    assert.equal(error.id, threw.id)
  } finally {
    rec.stop()
    await upstream.close()
  }
})
