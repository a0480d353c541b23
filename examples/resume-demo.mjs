// npm run demo:resume: an answer that survives the browser's reconnect to another server instance.
//
// It starts a redis-server of its own (loopback, a free port, a temporary directory, no
// persistence), the embedded OpenAI-compatible server, and two relay instances A and B: two Node
// processes, each with its own SSEClient on that Redis (docs/resuming.md).
//   1. The "browser" (this script, reading with fetch) asks A for an answer and loses its
//      connection mid-answer; it reconnects to B with the last event id it saw, and B replays the
//      rest from the log, then follows it live: the whole answer, each token once.
//   2. A second answer is produced by A and followed through B; A is killed (SIGKILL). Once A's
//      lease lapses, B's reader gets the terminal `interrupted` event instead of waiting forever.
// Without redis-server it says what to install and tells the first story on one process with the
// in-memory store.
//
//   node examples/resume-demo.mjs
//   node examples/resume-demo.mjs --instance '<store option as JSON>' <upstream base URL>   (one relay)
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { SSEClient } from 'native-sse'
import { startOpenAIServer } from './openai-server.mjs'

const QUESTION = 'Can an answer survive a reconnect?'
const REPLY =
  'Yes: every event of the answer is appended to a log in Redis and carries the log id as its SSE id, ' +
  'so a browser that reconnects to any instance with its Last-Event-ID gets exactly the events it missed, ' +
  'then the live ones, until the answer ends.'
const EXPECTED = `You asked: "${QUESTION}". ${REPLY}`
// The producer's lease: how long a dead instance keeps its generation before readers are told.
const LEASE_MS = 1000
// Where the browser loses its connection in the first story.
const CUT_AFTER = 15

/**
 * One relay instance (an SSR server of your app): POST /api/chat/:id starts a generation, GET
 * /api/chat/:id resumes it (Last-Event-ID from the header). Resolves with { url, close() }.
 */
export async function startInstance(store, upstreamUrl) {
  const client = new SSEClient({ store })
  const sse = client.create()
  const server = http.createServer(async (req, res) => {
    const match = /^\/api\/chat\/([\w-]+)$/.exec(req.url)
    if (match === null) {
      res.writeHead(404).end()
      return
    }
    const id = match[1]
    try {
      if (req.method === 'POST') {
        let body = ''
        for await (const part of req) body += part
        await sse.relay(res, {
          url: `${upstreamUrl}chat/completions`,
          body: JSON.parse(body),
          headers: { authorization: 'Bearer demo-key' },
          doneData: '[DONE]',
          resumable: { id },
        })
      } else {
        await client.resume(res, { id })
      }
    } catch (err) {
      // Nothing was sent yet (the store refused, or the id is taken): answer it.
      if (!res.headersSent) res.writeHead(503).end(String(err.code ?? err))
    }
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async close() {
      server.closeAllConnections()
      server.close()
      await client.close()
    },
  }
}

/** The same instance in a child process, so that it can be killed. */
async function spawnInstance(name, store, upstreamUrl) {
  const file = fileURLToPath(import.meta.url)
  const child = spawn(process.execPath, [file, '--instance', JSON.stringify(store), upstreamUrl], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = once(child, 'exit')
  child.stdout.setEncoding('utf8')
  let out = ''
  const url = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      const m = /READY (\S+)/.exec(out)
      if (m) resolve(m[1])
    })
    exited.then(([code]) => reject(new Error(`instance ${name} exited with ${code} before it was ready`)))
  })
  return {
    name,
    url,
    pid: child.pid,
    async kill() {
      child.kill('SIGKILL')
      await exited
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await exited
    },
  }
}

/** A free loopback port (the OS picks it; closed again before redis-server takes it). */
async function freePort() {
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address()
  probe.close()
  await once(probe, 'close')
  return port
}

/** PING over RESP; true when redis-server answers PONG. */
function ping(port) {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    socket.setEncoding('utf8')
    socket.on('error', () => resolve(false))
    socket.on('data', (d) => {
      socket.end()
      resolve(d.startsWith('+PONG'))
    })
    socket.write('*1\r\n$4\r\nPING\r\n')
  })
}

/** redis-server on a free loopback port in a temporary directory, without persistence. */
async function startRedis() {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-demo-redis-'))
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir]
  const child = spawn('redis-server', args, { stdio: 'ignore' })
  const exited = once(child, 'exit')
  for (let i = 0; i < 200 && !(await ping(port)); i++) await new Promise((r) => setTimeout(r, 25))
  if (!(await ping(port))) throw new Error(`redis-server did not answer on port ${port}`)
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      child.kill('SIGTERM')
      await exited
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * What the browser's page does with fetch: reads the event stream at `url` and calls
 * `onEvent({ id, event, data })` per event. `cutAfter: k` drops the connection after k tokens (a
 * phone losing its network). Resolves with { status, lastEventId, terminal } where terminal is the
 * name of the terminal event (end, error, stopped, interrupted), or 'cut'.
 */
async function readAnswer(url, { method = 'GET', body, lastEventId, cutAfter, onToken }) {
  const controller = new AbortController()
  const headers = { accept: 'text/event-stream' }
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId
  const response = await fetch(url, { method, headers, body, signal: controller.signal })
  const result = { status: response.status, lastEventId, terminal: undefined }
  if (response.status !== 200) return result
  const decoder = new TextDecoder()
  let buffer = ''
  let tokens = 0
  try {
    for await (const chunk of response.body) {
      buffer += decoder.decode(chunk, { stream: true })
      let at
      while ((at = buffer.indexOf('\n\n')) !== -1) {
        const event = parseEvent(buffer.slice(0, at))
        buffer = buffer.slice(at + 2)
        if (event === null) continue
        result.lastEventId = event.id
        if (event.event !== 'message') {
          result.terminal = event.event
          return result
        }
        const content = JSON.parse(event.data).choices[0]?.delta?.content
        if (!content) continue
        onToken(content)
        if (++tokens === cutAfter) {
          controller.abort()
          result.terminal = 'cut'
          return result
        }
      }
    }
  } catch (err) {
    if (err.name !== 'AbortError') throw err
  }
  return result
}

function parseEvent(block) {
  const event = { id: undefined, event: 'message', data: undefined }
  for (const line of block.split('\n')) {
    const colon = line.indexOf(':')
    if (colon <= 0) continue
    const name = line.slice(0, colon)
    const value = line.slice(colon + 1).replace(/^ /, '')
    if (name === 'id') event.id = value
    else if (name === 'event') event.event = value
    else if (name === 'data') event.data = event.data === undefined ? value : `${event.data}\n${value}`
  }
  return event.data === undefined ? null : event
}

const body = (id) => JSON.stringify({ model: 'demo-1', stream: true, messages: [{ role: 'user', content: id }] })

/** Act 1: cut from A mid-answer, resumed through B with the last id; the whole answer, once. */
async function reconnectStory(a, b) {
  const id = `answer-${Date.now().toString(36)}`
  let shown = ''
  const show = (token) => {
    shown += token
    process.stdout.write(token)
  }
  console.log(`\n1. The browser asks instance ${a.name} for an answer (generation ${id}):\n`)
  const first = await readAnswer(`${a.url}/api/chat/${id}`, {
    method: 'POST',
    body: JSON.stringify({ model: 'demo-1', stream: true, messages: [{ role: 'user', content: QUESTION }] }),
    cutAfter: CUT_AFTER,
    onToken: show,
  })
  console.log(
    `\n\n   ... the connection drops after ${CUT_AFTER} tokens; the last event id the page saw: ${first.lastEventId}`,
  )
  console.log(`   ${a.name} goes on with the generation; the browser reconnects to instance ${b.name}`)
  console.log(`   with Last-Event-ID: ${first.lastEventId}\n`)
  process.stdout.write('   ...')
  const rest = await readAnswer(`${b.url}/api/chat/${id}`, { lastEventId: first.lastEventId, onToken: show })
  console.log(`\n\n   ${b.name} answered HTTP ${rest.status} and ended with the terminal event '${rest.terminal}'.`)
  console.log(`\nThe answer as the page shows it:\n${shown}`)
  const ok = shown === EXPECTED
  console.log(ok ? 'Whole, each token exactly once: yes' : `NOT the expected answer:\n${EXPECTED}`)
  return ok
}

/** Act 2: the producing instance is killed; a reader on the other gets `interrupted`. */
async function killStory(a, b) {
  const id = `answer-${Date.now().toString(36)}-2`
  console.log(`\n2. Instance ${a.name} produces another answer (generation ${id}); a reader follows it on ${b.name}.`)
  let produced
  const logged = new Promise((resolve) => (produced = resolve))
  // The producer's own browser; its connection dies with A.
  readAnswer(`${a.url}/api/chat/${id}`, { method: 'POST', body: body(QUESTION), onToken: produced }).catch(() => {})
  // Once the producer's browser saw a token, the log holds it: B can follow.
  await logged
  let seen = 0
  let following
  const followed = new Promise((resolve) => (following = resolve))
  const reader = readAnswer(`${b.url}/api/chat/${id}`, {
    onToken() {
      if (++seen === 3) following()
    },
  })
  await followed
  const killed = Date.now()
  await a.kill()
  console.log(`   ${a.name} is killed (SIGKILL) mid-answer, ${seen} tokens after the reader on ${b.name} started.`)
  const result = await reader
  const waited = Date.now() - killed
  console.log(
    `   The reader on ${b.name} got the terminal event '${result.terminal}' ${waited} ms later ` +
      `(lease ${LEASE_MS} ms + at most 1 s), after ${seen} tokens: the page can offer to ask again.`,
  )
  return result.terminal === 'interrupted'
}

async function main() {
  const upstream = await startOpenAIServer({ tokenDelayMs: 40, reply: REPLY })
  const redisAvailable = spawnSync('redis-server', ['--version']).status === 0
  let ok = false
  if (!redisAvailable) {
    console.log('redis-server was not found on PATH. To see the two-instance story, install it:')
    console.log('  Debian/Ubuntu: apt-get install redis-server    macOS: brew install redis')
    console.log('Meanwhile, the same story on one process with the in-memory store (new SSEClient() with no store).')
    const one = await startInstance(undefined, upstream.url)
    try {
      ok = await reconnectStory({ ...one, name: 'A' }, { ...one, name: 'A (the same process)' })
      console.log('\n2. (Killing the producing instance needs a store shared by processes: Redis.)')
    } finally {
      await one.close()
      await upstream.close()
    }
  } else {
    const redis = await startRedis()
    console.log(`redis-server on ${redis.url}; relay instances A and B are two Node processes on it.`)
    const store = { url: redis.url, lease: LEASE_MS }
    const [a, b] = await Promise.all([spawnInstance('A', store, upstream.url), spawnInstance('B', store, upstream.url)])
    try {
      ok = await reconnectStory(a, b)
      ok = (await killStory(a, b)) && ok
    } finally {
      await Promise.all([a.close(), b.close()])
      await upstream.close()
      await redis.stop()
    }
  }
  if (!ok) process.exitCode = 1
}

if (process.argv[2] === '--instance') {
  const store = JSON.parse(process.argv[3])
  const instance = await startInstance(store, process.argv[4])
  process.on('SIGTERM', async () => {
    await instance.close()
    process.exit(0)
  })
  process.stdout.write(`READY ${instance.url}\n`)
} else {
  await main()
}
