// HTTP/2 servers for the tests: Node's own http2 over TLS (ALPN h2), and nginx / squid run from a
// throwaway directory when they are installed (.ci/run installs them; tests skip without them).
import http2 from 'node:http2'
import net from 'node:net'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

import { selfSignedCert } from './tls.mjs'

/**
 * Starts `http2.createSecureServer` on 127.0.0.1 with a throwaway certificate. `handler(stream,
 * headers)` answers each stream (the compatibility API is not used: its per-write overhead would
 * hide the client's behaviour). Resolves to null without openssl.
 * With `allowHTTP1`, HTTP/1.1 requests reach the same handler (their response gets `respond()`).
 * `sessions` holds the open HTTP/2 connections, `state` counts streams and sessions opened.
 */
export async function startH2Server(handler, { settings, allowHTTP1 = false, pair = selfSignedCert() } = {}) {
  if (pair === null) return null
  const sessions = new Set()
  const server = http2.createSecureServer({ key: pair.key, cert: pair.cert, allowHTTP1, settings })
  const state = { streams: 0, sessionsOpened: 0 }
  server.on('session', (session) => {
    state.sessionsOpened++
    sessions.add(session)
    session.on('close', () => sessions.delete(session))
    session.on('error', () => {})
  })
  const run = (stream, headers) => {
    state.streams++
    stream.on('error', () => {})
    Promise.resolve()
      .then(() => handler(stream, headers))
      .catch(() => stream.destroy())
  }
  server.on('stream', run)
  // With allowHTTP1, an HTTP/1.1 request gets the same handler: its response, dressed as a stream.
  server.on('request', (req, res) => {
    if (req.httpVersion === '2.0') return
    res.respond = ({ ':status': status, ...rest }) => res.writeHead(status, rest)
    res.session = { alpnProtocol: 'http/1.1' }
    req.resume()
    run(res, { ':path': req.url, ':method': req.method, ...req.headers })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `https://127.0.0.1:${server.address().port}`
  return {
    server,
    sessions,
    state,
    ca: pair.cert,
    pair,
    base,
    url: `${base}/sse`,
    async close() {
      for (const session of sessions) session.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}

/** Headers of an event-stream response for `stream.respond()`. */
export const SSE_HEADERS = { ':status': 200, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' }

/**
 * Writes `count` events of `size` bytes each (`data: ` + padding + `\n\n`) as fast as the stream
 * takes them, each in its own DATA frame: the next write waits for the previous one's callback
 * (queued writes would be merged into one frame by nghttp2). Resolves once the stream has ended.
 */
export async function writeEvents(stream, count, size = 16) {
  const line = `data: ${'x'.repeat(Math.max(1, size - 8))}\n\n`
  for (let i = 0; i < count && !stream.destroyed; i++) {
    await new Promise((resolve) => stream.write(line, resolve))
  }
  if (!stream.destroyed) stream.end()
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' })
  return r.status === 0 ? r.stdout.trim() : null
}

/** Resolves once something accepts TCP connections on 127.0.0.1:port (bounded: `tries` x 50 ms). */
async function waitForPort(port, child, tries = 200) {
  for (let i = 0; i < tries; i++) {
    if (child.exitCode !== null) return false
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1')
      s.on('connect', () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}

async function freePort() {
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function runDaemon(name, args, port, dir) {
  const child = spawn(name, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d) => (err += d))
  if (!(await waitForPort(port, child))) {
    child.kill('SIGKILL')
    throw new Error(`${name} did not start: ${err}`)
  }
  return {
    child,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await once(child, 'exit')
        clearTimeout(timer)
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * nginx terminating TLS with `http2` on 127.0.0.1 and proxying, unbuffered, to `upstream`
 * (http://127.0.0.1:port), allowing `maxConcurrentStreams` streams per connection (nginx's default,
 * 128). Resolves to null when nginx or openssl is missing.
 */
export async function startNginxH2(upstream, { maxConcurrentStreams = 128 } = {}) {
  const nginx = which('nginx')
  const pair = selfSignedCert()
  if (nginx === null || pair === null) return null
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-nginx-'))
  chmodSync(dir, 0o755)
  writeFileSync(join(dir, 'cert.pem'), pair.cert)
  writeFileSync(join(dir, 'key.pem'), pair.key)
  const port = await freePort()
  const conf = `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port} ssl http2;
    http2_max_concurrent_streams ${maxConcurrentStreams};
    ssl_certificate ${dir}/cert.pem;
    ssl_certificate_key ${dir}/key.pem;
    location / {
      proxy_pass ${upstream};
      proxy_http_version 1.1;
      proxy_set_header Connection '';
      proxy_buffering off;
      proxy_request_buffering off;
      proxy_read_timeout 60s;
    }
  }
}
`
  writeFileSync(join(dir, 'nginx.conf'), conf)
  const daemon = await runDaemon(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], port, dir)
  const base = `https://127.0.0.1:${port}`
  return { ...daemon, base, url: `${base}/sse`, ca: pair.cert, log: () => readFileSync(join(dir, 'error.log'), 'utf8') }
}

/** squid as a forward proxy on 127.0.0.1 (CONNECT allowed to any port). Null when squid is missing. */
export async function startSquid() {
  const squid = which('squid')
  if (squid === null) return null
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-squid-'))
  // squid started as root drops to its cache_effective_user, which must write its logs here.
  chmodSync(dir, 0o777)
  const port = await freePort()
  const conf = `
http_port 127.0.0.1:${port}
acl localnet src 127.0.0.0/8
acl SSL_ports port 1-65535
acl Safe_ports port 1-65535
acl CONNECT method CONNECT
http_access allow localnet
http_access deny all
cache deny all
pid_filename ${dir}/squid.pid
cache_log ${dir}/cache.log
access_log none
coredump_dir ${dir}
shutdown_lifetime 0 seconds
`
  writeFileSync(join(dir, 'squid.conf'), conf)
  const daemon = await runDaemon(squid, ['-N', '-f', join(dir, 'squid.conf')], port, dir)
  return { ...daemon, url: `http://127.0.0.1:${port}` }
}
