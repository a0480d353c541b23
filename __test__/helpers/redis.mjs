// A real redis-server for a test (and for the benchmarks in bench/): started on a free loopback port
// in a temporary directory, with no persistence, and stopped by the PID it was started with.
// `redisSkip` says how to install it when it is missing (the tests that need it are skipped then,
// not failed).
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { unusedPort } from './server.mjs'

const available = spawnSync('redis-server', ['--version']).status === 0
export const redisSkip = available ? false : 'redis-server is not installed (apt-get install redis-server)'

/** One command over RESP, on its own connection; resolves with the reply as text. */
export function redisCommand(port, ...args) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let reply = ''
    socket.setEncoding('utf8')
    socket.on('error', reject)
    socket.on('data', (d) => {
      reply += d
      // A bulk string ($len, then the text), or an integer, simple string or error (one line).
      const bulk = /^\$(\d+)\r\n/.exec(reply)
      if (bulk && reply.length >= bulk[0].length + Number(bulk[1]) + 2) {
        socket.end()
        resolve(reply.slice(bulk[0].length, bulk[0].length + Number(bulk[1])))
      } else if (!bulk && /^[:+-]/.test(reply) && reply.endsWith('\r\n')) {
        socket.end()
        resolve(reply.slice(1, -2))
      }
    })
    socket.write(`*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(String(a))}\r\n${a}\r\n`).join(''))
  })
}

async function answers(port) {
  try {
    return (await redisCommand(port, 'PING')) === 'PONG'
  } catch {
    return false
  }
}

/**
 * Starts redis-server; `stop()` ends it, `kill()` kills it (SIGKILL), `restart()` starts it again.
 * With `tls: { key, cert }` (PEM) it also listens with TLS on `tlsPort` (`tlsUrl`, rediss://); the
 * plain port stays for the helpers here.
 */
export async function startRedis({ tls } = {}) {
  const port = await unusedPort()
  const tlsPort = tls === undefined ? null : await unusedPort()
  const dir = mkdtempSync(join(tmpdir(), 'native-sse-redis-'))
  const tlsArgs = []
  if (tls !== undefined) {
    writeFileSync(join(dir, 'key.pem'), tls.key)
    writeFileSync(join(dir, 'cert.pem'), tls.cert)
    tlsArgs.push('--tls-port', String(tlsPort), '--tls-cert-file', join(dir, 'cert.pem'))
    tlsArgs.push('--tls-key-file', join(dir, 'key.pem'), '--tls-auth-clients', 'no')
  }
  let child = null
  const server = {
    port,
    url: `redis://127.0.0.1:${port}`,
    tlsPort,
    tlsUrl: tlsPort === null ? null : `rediss://127.0.0.1:${tlsPort}`,
    async start() {
      child = spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...tlsArgs],
        {
          stdio: 'ignore',
        },
      )
      for (let i = 0; i < 200 && !(await answers(port)); i++) await new Promise((r) => setTimeout(r, 25))
      if (!(await answers(port))) throw new Error(`redis-server did not answer on port ${port}`)
    },
    async kill() {
      if (child === null) return
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
      child = null
    },
    restart() {
      return server.start()
    },
    /** Calls per command since the last `resetStats()`, from INFO commandstats. */
    async calls() {
      const out = {}
      const info = await redisCommand(port, 'INFO', 'commandstats')
      for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) out[m[1]] = Number(m[2])
      return out
    },
    resetStats: () => redisCommand(port, 'CONFIG', 'RESETSTAT'),
    async stop() {
      await server.kill()
      rmSync(dir, { recursive: true, force: true })
    },
  }
  await server.start()
  return server
}
