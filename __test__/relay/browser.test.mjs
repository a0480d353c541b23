// Every relay example in a real headless Chromium: the Express relay with a transform (examples/relay),
// the pass-through relays in Express (`sse.relay(res)`), Fastify (`sse.relay(reply.raw)`), Hono
// (`toResponse()`) and the Next.js route handler (`toResponse()`, built and run with `next start`).
// Tokens reach the page as they are generated, and closing the page aborts the upstream request.
import { describe, test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import { chromium } from 'playwright-core'
import { startOpenAIServer } from '../../examples/openai-server.mjs'
import { startRelay } from '../../examples/relay/server.mjs'
import { start as startExpress } from '../../examples/relay-express.mjs'
import { start as startFastify } from '../../examples/relay-fastify.mjs'
import { start as startHono } from '../../examples/relay-hono.mjs'
import { delay } from '../helpers/server.mjs'
import { nextSkip, startNext } from '../helpers/nextjs.mjs'

const CHROMIUM = '/usr/bin/chromium'
// CI installs Debian's chromium; a machine with only Node, npm and cargo still passes `npm test`.
const skip = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} not found: apt-get install -y chromium to run the browser tests`

const QUESTION = 'Does it stream?'
const REPLY =
  'Each token leaves the upstream server as one event, crosses the relay as one event and lands in the page ' +
  'as soon as it arrives, so the reader sees the answer grow word by word instead of waiting for the whole ' +
  'reply to be generated before anything shows up on the screen.'
const FULL = `You asked: "${QUESTION}". ${REPLY}`

// Each relay: how to start it in front of an upstream base URL (…/v1/), and why it cannot run here.
// Those with `stats` count upstream requests opened, aborted, completed and failed.
const RELAYS = [
  { name: 'Express with a transform (examples/relay)', start: (upstreamUrl) => startRelay({ upstreamUrl }) },
  { name: 'Express: sse.relay(res)', start: (upstreamUrl) => startExpress({ upstreamUrl }) },
  { name: 'Fastify: sse.relay(reply.raw)', start: (upstreamUrl) => startFastify({ upstreamUrl }) },
  { name: 'Hono: stream().toResponse()', start: (upstreamUrl) => startHono({ upstreamUrl }) },
  {
    name: 'Next.js route handler: stream().toResponse() (next start)',
    start: (upstreamUrl) => startNext({ upstreamUrl }),
    skip: nextSkip,
  },
]

/**
 * Starts the OpenAI-compatible server (about 30 ms a token, so a reply takes well over a second) and
 * the relay in front of it. `responses` records how each upstream response ended.
 */
async function startStack(startRelay) {
  const upstream = await startOpenAIServer({ tokenDelayMs: 30, reply: REPLY })
  const responses = []
  upstream.server.on('request', (req, res) => {
    const entry = { closed: false, finished: false }
    responses.push(entry)
    res.on('close', () => {
      entry.closed = true
      entry.finished = res.writableFinished
    })
  })
  const relay = await startRelay(upstream.url)
  return {
    upstream,
    relay,
    responses,
    connections: promisify(upstream.server.getConnections.bind(upstream.server)),
    async close() {
      await relay.close()
      await upstream.close()
    },
  }
}

/** Polls `condition` (may be async) until it is true; fails naming `what` after `timeoutMs`. */
async function until(condition, what, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await delay(20)
  }
}

describe('the relay examples in headless Chromium', { timeout: 60_000 }, () => {
  let browser

  before(async () => {
    if (skip) return
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 30_000,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
  })

  after(async () => {
    await browser?.close()
  })

  async function openPage(url) {
    const page = await browser.newPage()
    page.setDefaultTimeout(10_000)
    await page.goto(url)
    // Both pages mark the form once their script has wired it (the Next.js one after hydration).
    await page.waitForSelector('#ask[data-ready]')
    await page.fill('#question', QUESTION)
    return page
  }

  for (const relayCase of RELAYS) {
    describe(relayCase.name, () => {
      test(
        'the answer appears token by token, then the status says done',
        { skip: skip || relayCase.skip, timeout: 30_000 },
        async () => {
          const stack = await startStack(relayCase.start)
          let page
          try {
            page = await openPage(stack.relay.url)
            await page.click('#send')

            // Each wait returns as soon as the text is longer than last time, so every length seen here was
            // on screen while the stream was still running.
            const lengths = []
            let sample = { length: 0, status: 'streaming' }
            while (sample.status === 'streaming') {
              const handle = await page.waitForFunction((previous) => {
                const length = document.querySelector('#answer').textContent.length
                const status = document.querySelector('#status').textContent
                return (length > previous || (status !== 'streaming' && status !== 'idle')) && { length, status }
              }, sample.length)
              sample = await handle.jsonValue()
              await handle.dispose()
              if (sample.status === 'streaming') lengths.push(sample.length)
            }

            assert.equal(sample.status, 'done')
            assert.equal(await page.textContent('#answer'), FULL)
            const intermediate = new Set(lengths.filter((n) => n > 0 && n < FULL.length))
            assert.ok(
              intermediate.size >= 3,
              `only ${intermediate.size} partial answers were seen: ${lengths.join(', ')}`,
            )
            if (stack.relay.stats)
              assert.deepEqual(stack.relay.stats, { opened: 1, aborted: 0, completed: 1, failed: 0 })
            await until(() => stack.responses[0]?.closed, 'the upstream response to close')
            assert.deepEqual(stack.responses, [{ closed: true, finished: true }])
          } finally {
            await page?.close()
            await stack.close()
          }
        },
      )

      test(
        'closing the page mid-stream aborts the upstream request',
        { skip: skip || relayCase.skip, timeout: 30_000 },
        async () => {
          const stack = await startStack(relayCase.start)
          let page
          try {
            page = await openPage(stack.relay.url)
            await page.click('#send')
            await page.waitForFunction(
              () => document.querySelector('#answer').textContent.trim().split(/\s+/).length >= 3,
            )
            assert.equal(await page.textContent('#status'), 'streaming', 'the reply ended before the page was closed')
            await page.close()

            if (stack.relay.stats)
              await until(() => stack.relay.stats.aborted === 1, 'the relay to abort its upstream request')
            await until(() => stack.responses[0]?.closed, 'the upstream response to close')
            assert.equal(stack.responses[0].finished, false, 'the upstream response ran to its end')
            await until(async () => (await stack.connections()) === 0, 'the upstream connection to close')
            if (stack.relay.stats)
              assert.deepEqual(stack.relay.stats, { opened: 1, aborted: 1, completed: 0, failed: 0 })
          } finally {
            if (page && !page.isClosed()) await page.close()
            await stack.close()
          }
        },
      )
    })
  }
})
