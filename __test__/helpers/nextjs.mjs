// Runs the built Next.js example (examples/nextjs) with `next start` on 127.0.0.1, for the tests.
// .ci/run installs and builds it; where it is not installed or not built the tests skip.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { unusedPort } from './server.mjs'

export const NEXT_DIR = fileURLToPath(new URL('../../examples/nextjs/', import.meta.url))
const NEXT_BIN = `${NEXT_DIR}node_modules/next/dist/bin/next`
const PACKAGE = `${NEXT_DIR}node_modules/native-sse`

/** false, or why the Next.js example cannot run here. */
export const nextSkip = !existsSync(NEXT_BIN)
  ? 'examples/nextjs is not installed: npm --prefix examples/nextjs install --install-links (see .ci/run)'
  : !existsSync(`${PACKAGE}/native-sse.linux-x64-gnu.node`) && !existsSync(`${PACKAGE}/../native-sse-linux-x64-gnu`)
    ? 'examples/nextjs/node_modules/native-sse has no addon: copy native-sse.linux-x64-gnu.node into it (see .ci/run)'
    : !existsSync(`${NEXT_DIR}.next/BUILD_ID`)
      ? 'examples/nextjs is not built: (cd examples/nextjs && npx next build) (see .ci/run)'
      : false

/**
 * Starts `next start` for the example with UPSTREAM_URL set. Resolves once it listens, with
 * { url, output(), close() }.
 */
export async function startNext({ upstreamUrl }) {
  const port = await unusedPort()
  const child = spawn(process.execPath, [NEXT_BIN, 'start', '--hostname', '127.0.0.1', '--port', String(port)], {
    cwd: NEXT_DIR,
    env: {
      ...process.env,
      UPSTREAM_URL: upstreamUrl,
      NEXT_TELEMETRY_DISABLED: '1',
      // Until issue 9 attaches toResponse() to streams (a no-op once it has).
      WIRE_NATIVE_SSE: PACKAGE,
      NODE_OPTIONS: `--require ${fileURLToPath(new URL('wire-relay.cjs', import.meta.url))}`,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const ready = new Promise((resolve, reject) => {
    const onData = (chunk) => {
      output += chunk
      if (/Ready in|✓ Ready/.test(output)) resolve()
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.once('exit', (code) => reject(new Error(`next start exited with ${code}: ${output}`)))
  })
  await ready
  return {
    url: `http://127.0.0.1:${port}/`,
    output: () => output,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await once(child, 'exit')
      }
    },
  }
}
