// Child Node processes for tests about process life (exit, uncaught exceptions, the demo).
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

export const root = fileURLToPath(new URL('../..', import.meta.url))

/**
 * Runs `args` with this Node in the package root (`env` added to this process's environment),
 * killing it after `timeoutMs`. Resolves with its
 * exit code, the signal that ended it (SIGKILL means it had to be killed) and stdout + stderr.
 */
export async function runNode(args, { timeoutMs = 20000, env } = {}) {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env } })
  let out = ''
  child.stdout.on('data', (d) => (out += d))
  child.stderr.on('data', (d) => (out += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  const [code, signal] = await once(child, 'exit')
  clearTimeout(timer)
  return { code, signal, out }
}

/** Runs an ES module given as source text; `args` are its process.argv[1..]. */
export const runModule = (source, args = [], options) =>
  runNode(['--input-type=module', '-e', source, ...args], options)
