// Shared pieces of the resumable-relay tests: an upstream AI-like server, a reader of event
// streams that can hang up after k events, and relay instances run as child processes.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { startServer } from './server.mjs'

/**
 * An upstream that streams `count` events `data: t<i>` in writes of `group` events, `gapMs` apart.
 * `requests` counts requests; `closedEarly` resolves when a response was cut before its end (the
 * client went away); `ended` resolves when one ran to its end.
 */
export async function startUpstream({ count = 20, group = 1, gapMs = 15 } = {}) {
  let earlyClose
  let endedOne
  const closedEarly = new Promise((resolve) => (earlyClose = resolve))
  const ended = new Promise((resolve) => (endedOne = resolve))
  const srv = await startServer(async (req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    let finished = false
    res.on('close', () => {
      if (!finished) earlyClose(Date.now())
    })
    for (let i = 0; i < count && !res.destroyed; i += group) {
      let text = ''
      for (let j = i; j < Math.min(count, i + group); j++) text += `data: t${j}\n\n`
      res.write(text)
      await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
    finished = true
    res.end()
    endedOne()
  })
  return Object.assign(srv, { closedEarly, ended })
}

/** Splits event-stream text into complete events: [{ id, event, data }] and the rest. */
function takeEvents(buffer) {
  const events = []
  let at
  while ((at = buffer.indexOf('\n\n')) !== -1) {
    const block = buffer.slice(0, at)
    buffer = buffer.slice(at + 2)
    const event = { id: undefined, event: 'message', data: undefined }
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue
      const colon = line.indexOf(':')
      const name = colon === -1 ? line : line.slice(0, colon)
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '')
      if (name === 'id') event.id = value
      else if (name === 'event') event.event = value
      else if (name === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`
    }
    if (event.data !== undefined) events.push(event)
  }
  return { events, rest: buffer }
}

/**
 * Reads an event stream from `url` (`method`, `headers`). With `cutAfter: k` the connection is
 * destroyed as soon as k events were read (the events after the k-th in the same chunk are not
 * counted: the page never saw them). Resolves with { status, events, cut }.
 */
export function readStream(url, { method = 'GET', headers = {}, cutAfter } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers })
    req.on('error', reject)
    req.on('response', (res) => {
      const events = []
      let buffer = ''
      let cut = false
      res.setEncoding('utf8')
      res.on('data', (chunk) => {
        if (cut) return
        const taken = takeEvents(buffer + chunk)
        buffer = taken.rest
        for (const event of taken.events) {
          events.push(event)
          if (cutAfter !== undefined && events.length === cutAfter) {
            cut = true
            req.destroy()
            resolve({ status: res.statusCode, events, cut, body: '' })
            return
          }
        }
      })
      res.on('end', () => resolve({ status: res.statusCode, events, cut, body: buffer }))
      res.on('error', () => resolve({ status: res.statusCode, events, cut, body: buffer }))
    })
    req.end()
  })
}

const INSTANCE = fileURLToPath(new URL('./relay-instance.mjs', import.meta.url))

/** A relay instance (helpers/relay-instance.mjs) in its own Node process, on `store`. */
export async function startInstance(store) {
  const child = spawn(process.execPath, [INSTANCE, JSON.stringify(store)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.setEncoding('utf8')
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      const m = /READY (\d+)/.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code) => reject(new Error(`relay instance exited with ${code} before it was ready`)))
  })
  const exited = once(child, 'exit')
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}
