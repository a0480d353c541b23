// native-sse/fetch-event-source with a custom `fetch`, as @microsoft/fetch-event-source 2.x takes
// it: the user's fetch makes each attempt's request (input as given, init = the rest of init with
// the headers and an AbortSignal), onopen gets the Response it returned, and the body's events go
// through the native parser; onerror decides every retry. Against real servers on 127.0.0.1; the
// custom fetches wrap the global fetch (recording calls, re-chunking bodies, failing on purpose).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fetchEventSource } from 'native-sse/fetch-event-source'
import { startServer, sse } from '../helpers/server.mjs'
import { recordingFetch, oneByteChunks } from '../helpers/custom-fetch.mjs'

class FatalError extends Error {}

test('the custom fetch gets the input and the rest of init with headers and a signal; onopen gets its Response; onmessage, onclose, resolved', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'retry: 2500\nid: 1\ndata: hello\n\nevent: notice\ndata: named\n\n'),
  )
  try {
    const myFetch = recordingFetch()
    const calls = []
    const controller = new AbortController()
    const input = new URL(srv.url)
    const promise = fetchEventSource(input, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t' },
      body: '{"foo":"bar"}',
      credentials: 'include',
      cache: 'no-cache',
      mode: 'cors',
      redirect: 'follow',
      signal: controller.signal,
      openWhenHidden: true,
      fetch: myFetch,
      onopen(response) {
        calls.push(['open', response.status, response.headers.get('content-type')])
      },
      onmessage: (ev) => calls.push(ev),
      onclose: () => calls.push('close'),
      onerror: (err) => calls.push(['error', err]),
    })
    assert.equal(myFetch.calls.length, 1, 'the fetch is called at once, as the package calls it')
    await promise
    assert.deepEqual(calls, [
      ['open', 200, 'text/event-stream'],
      { id: '1', event: '', data: 'hello', retry: 2500 },
      { id: '1', event: 'notice', data: 'named', retry: undefined },
      'close',
    ])
    const [{ input: gotInput, init }] = myFetch.calls
    assert.equal(gotInput, input, 'the input is passed as given')
    assert.deepEqual(Object.keys(init).sort(), [
      'body',
      'cache',
      'credentials',
      'headers',
      'method',
      'mode',
      'redirect',
      'signal',
    ])
    assert.deepEqual(
      { ...init, signal: undefined },
      {
        method: 'POST',
        body: '{"foo":"bar"}',
        credentials: 'include',
        cache: 'no-cache',
        mode: 'cors',
        redirect: 'follow',
        headers: { 'Content-Type': 'application/json', Authorization: 'Bearer t', accept: 'text/event-stream' },
        signal: undefined,
      },
    )
    assert.ok(init.signal instanceof AbortSignal)
    assert.notEqual(init.signal, controller.signal, 'each attempt has its own signal')
    const [r] = srv.requests
    assert.equal(r.method, 'POST')
    assert.equal(r.headers.authorization, 'Bearer t')
    assert.equal(r.body.toString(), '{"foo":"bar"}')
  } finally {
    await srv.close()
  }
})

test('onopen gets the Response the custom fetch returned, as it is', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: x\n\n'))
  try {
    let returned
    let seen
    await fetchEventSource(srv.url, {
      fetch: async (input, init) => (returned = await fetch(input, init)),
      onopen: async (response) => {
        seen = response
      },
    })
    assert.equal(seen, returned)
  } finally {
    await srv.close()
  }
})

test('a retry calls the custom fetch again with last-event-id, after the delay onerror returned', async () => {
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    if (srv.requests.length === 1) {
      // An event with an id, then the socket is destroyed: the body errors mid-stream.
      await new Promise((resolve) => res.write('id: 7\ndata: a\n\ndata: cut', resolve))
      return req.socket.destroy()
    }
    res.end('data: b\n\n')
  })
  try {
    const myFetch = recordingFetch()
    const events = []
    const errors = []
    await fetchEventSource(srv.url, {
      headers: { 'X-Trace': '1' },
      fetch: myFetch,
      onmessage: (ev) => events.push([ev.id, ev.data]),
      onerror: (err) => {
        errors.push(err)
        return 5
      },
    })
    assert.equal(myFetch.calls.length, 2)
    assert.deepEqual(myFetch.calls[0].init.headers, { 'X-Trace': '1', accept: 'text/event-stream' })
    assert.deepEqual(myFetch.calls[1].init.headers, {
      'X-Trace': '1',
      accept: 'text/event-stream',
      'last-event-id': '7',
    })
    assert.equal(srv.requests[1].headers['last-event-id'], '7')
    assert.equal(errors.length, 1)
    assert.match(String(errors[0].message), /terminated/, 'onerror gets what the body reader rejected with')
    assert.deepEqual(events, [
      ['7', 'a'],
      ['', 'b'],
    ])
  } finally {
    await srv.close()
  }
})

test('without onopen a wrong content-type fails the attempt with the package message; onerror throwing rejects the promise with it', async () => {
  const srv = await startServer((req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<p>no</p>'))
  try {
    const myFetch = recordingFetch()
    const seen = []
    const fatal = new FatalError('stop')
    await assert.rejects(
      fetchEventSource(srv.url, {
        fetch: myFetch,
        onerror(err) {
          seen.push(err.message)
          throw fatal
        },
      }),
      (err) => err === fatal,
    )
    assert.deepEqual(seen, ['Expected content-type to be text/event-stream, Actual: text/html'])
    assert.equal(myFetch.calls.length, 1)
  } finally {
    await srv.close()
  }
})

test('an error status reaches onopen as the Response; a FatalError thrown there stops the retries', async () => {
  const srv = await startServer((req, res) => res.writeHead(401, { 'content-type': 'application/json' }).end('{"e":1}'))
  try {
    let body
    const myFetch = recordingFetch()
    await assert.rejects(
      fetchEventSource(srv.url, {
        fetch: myFetch,
        async onopen(response) {
          if (response.status === 401) {
            body = await response.text()
            throw new FatalError('unauthorized')
          }
        },
        onerror(err) {
          if (err instanceof FatalError) throw err
        },
      }),
      FatalError,
    )
    assert.equal(body, '{"e":1}')
    assert.equal(myFetch.calls.length, 1)
  } finally {
    await srv.close()
  }
})

test('each failure of the custom fetch reaches onerror as thrown: a throw, a rejection, a non-Response, a body-less Response', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: finally\n\n'))
  try {
    const thrown = new Error('sync throw')
    const rejected = new TypeError('fetch failed')
    const myFetch = recordingFetch([
      () => {
        throw thrown
      },
      () => Promise.reject(rejected),
      () => Promise.resolve(42),
      () => new Response(null, { headers: { 'content-type': 'text/event-stream' } }),
    ])
    const errors = []
    const opens = []
    const events = []
    await fetchEventSource(srv.url, {
      fetch: myFetch,
      onopen: async (response) => opens.push(response.status),
      onmessage: (ev) => events.push(ev.data),
      onerror: (err) => {
        errors.push(err)
        return 0
      },
    })
    assert.equal(myFetch.calls.length, 5)
    assert.equal(errors[0], thrown)
    assert.equal(errors[1], rejected)
    assert.ok(errors[2] instanceof TypeError)
    assert.equal(errors[2].message, 'the custom fetch resolved with 42, not a Response')
    assert.ok(errors[3] instanceof TypeError)
    assert.equal(errors[3].message, 'Invalid response body, expected a web ReadableStream')
    assert.equal(errors.length, 4)
    assert.deepEqual(opens, [200, 200], 'onopen sees the body-less Response before its body fails')
    assert.deepEqual(events, ['finally'])
  } finally {
    await srv.close()
  }
})

test('aborting init.signal aborts the signal the custom fetch got and resolves, with no onerror or onclose', async () => {
  const srv = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.write('data: hello\n\n')
  })
  try {
    const myFetch = recordingFetch()
    const controller = new AbortController()
    const calls = []
    const done = fetchEventSource(srv.url, {
      signal: controller.signal,
      fetch: myFetch,
      onmessage: (ev) => {
        calls.push(ev.data)
        controller.abort()
      },
      onclose: () => calls.push('close'),
      onerror: (err) => calls.push(['error', err]),
    })
    assert.equal(await done, undefined)
    assert.equal(myFetch.calls[0].init.signal.aborted, true)
    await srv.idle()
    assert.deepEqual(calls, ['hello'])
  } finally {
    await srv.close()
  }
})

test('unicode split into one-byte chunks by the custom fetch arrives whole in data, event and id', async () => {
  const srv = await startServer((req, res) =>
    sse(res, 'id: ключ-🔑\nevent: 通知\ndata: héllo wörld 🌍\ndata: 第二行\n\n'),
  )
  try {
    const events = []
    const myFetch = recordingFetch([async (input, init) => oneByteChunks(await fetch(input, init))])
    await fetchEventSource(srv.url, { fetch: myFetch, onmessage: (ev) => events.push(ev) })
    assert.equal(myFetch.calls.length, 1)
    assert.deepEqual(events, [{ id: 'ключ-🔑', event: '通知', data: 'héllo wörld 🌍\n第二行', retry: undefined }])
  } finally {
    await srv.close()
  }
})

test('a redirect followed by the custom fetch: onopen sees the final URL', async () => {
  const target = await startServer((req, res) => sse(res, 'data: arrived\n\n'))
  const srv = await startServer((req, res) => res.writeHead(301, { location: target.url }).end())
  try {
    let url
    let redirected
    const events = []
    await fetchEventSource(srv.url, {
      fetch: recordingFetch(),
      onopen: async (response) => {
        url = response.url
        redirected = response.redirected
      },
      onmessage: (ev) => events.push(ev.data),
    })
    assert.equal(url, target.url)
    assert.equal(redirected, true)
    assert.deepEqual(events, ['arrived'])
  } finally {
    await srv.close()
    await target.close()
  }
})

test('globalThis.fetch passed by habit keeps the native transport', async () => {
  const srv = await startServer((req, res) => sse(res, 'data: native\n\n'))
  try {
    const events = []
    await fetchEventSource(srv.url, { fetch: globalThis.fetch, onmessage: (ev) => events.push(ev.data) })
    assert.deepEqual(events, ['native'])
    assert.match(srv.requests[0].headers['user-agent'], /^native-sse\//)
  } finally {
    await srv.close()
  }
})
