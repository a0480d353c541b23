// A resumable relay in a real headless Chromium: the page starts an answer through instance A (a
// POST read with fetch), its connection to A is cut mid-answer, and it reconnects through instance
// B with the last id it saw (an EventSource, which closes itself on the terminal event). A and B
// are two Node processes on one real redis-server; the page is served by a third server, so both
// are cross-origin to it. The page must show the whole answer exactly once.
import { test, after, before } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { redisSkip, startRedis } from '../helpers/redis.mjs'
import { startInstance, startUpstream } from '../helpers/resumable.mjs'
import { startServer } from '../helpers/server.mjs'

const CHROMIUM = '/usr/bin/chromium'
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} not found: apt-get install -y chromium to run the browser tests`
  : redisSkip

const COUNT = 40

// The page: ?a=&b=&upstream=&id=. It shows the tokens in #answer, separated by spaces, and says in
// data-* attributes on <body> how the answer went: data-cut once the fetch reader lost A, data-via
// the instance that finished it, data-terminal the terminal event.
const PAGE = `<!doctype html>
<meta charset="utf-8">
<title>resumable answer</title>
<p id="answer"></p>
<script>
  const params = new URLSearchParams(location.search)
  const [A, B, upstream, id] = ['a', 'b', 'upstream', 'id'].map((name) => params.get(name))
  const answer = document.getElementById('answer')
  const tokens = []
  let lastEventId
  function show(data) {
    tokens.push(data)
    answer.textContent = tokens.join(' ')
  }
  function finish(terminal, via) {
    document.body.dataset.terminal = terminal
    document.body.dataset.via = via
  }
  // The rest through B: EventSource, starting after the last id the page saw. Its own reconnects
  // would send Last-Event-ID; it is closed on the terminal event so that it does not reconnect.
  function resumeThroughB() {
    const source = new EventSource(B + '/resume?id=' + id + '&lastEventId=' + encodeURIComponent(lastEventId))
    source.onmessage = (e) => show(e.data)
    for (const terminal of ['end', 'error', 'stopped', 'interrupted']) {
      source.addEventListener(terminal, (e) => {
        if (terminal === 'error' && !(e instanceof MessageEvent)) return // a connection error
        source.close()
        finish(terminal, 'B')
      })
    }
  }
  // The start through A: a POST read with fetch, parsed by hand (LF-only event streams).
  async function start() {
    const response = await fetch(A + '/produce?id=' + id + '&upstream=' + encodeURIComponent(upstream), {
      method: 'POST',
    })
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
    let buffer = ''
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        buffer += value
        let at
        while ((at = buffer.indexOf('\\n\\n')) !== -1) {
          const event = { event: 'message', data: '' }
          for (const line of buffer.slice(0, at).split('\\n')) {
            const colon = line.indexOf(':')
            const name = line.slice(0, colon)
            const field = line.slice(colon + 1).replace(/^ /, '')
            if (name === 'id') lastEventId = field
            else if (name === 'event') event.event = field
            else if (name === 'data') event.data = field
          }
          buffer = buffer.slice(at + 2)
          if (event.event !== 'message') {
            finish(event.event, 'A')
            return
          }
          show(event.data)
        }
      }
    } catch {
      // The network dropped (here: A destroyed the connection).
    }
    document.body.dataset.cut = 'yes'
    resumeThroughB()
  }
  start()
</script>
`

let redis
let a
let b
let upstream
let pages
let browser

before(async () => {
  if (skip) return
  redis = await startRedis()
  ;[a, b] = await Promise.all([startInstance({ url: redis.url }), startInstance({ url: redis.url })])
  // About 25 ms a token: the answer takes a second, time enough to cut it in the middle.
  upstream = await startUpstream({ count: COUNT, gapMs: 25 })
  pages = await startServer((req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8')
    res.end(PAGE)
  })
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  })
})

after(async () => {
  await browser?.close()
  await pages?.close()
  await Promise.all([a?.stop(), b?.stop()])
  await upstream?.close()
  await redis?.stop()
})

test(
  'a page cut from instance A mid-answer resumes through B and shows the whole answer exactly once',
  { skip, timeout: 60_000 },
  async () => {
    const page = await browser.newPage()
    page.setDefaultTimeout(15_000)
    const id = `browser-${process.pid}`
    const query = new URLSearchParams({ a: a.url, b: b.url, upstream: upstream.url, id })
    await page.goto(`${pages.base}/?${query}`)
    // Some tokens are on the screen: the network drops.
    await page.waitForFunction(() => document.getElementById('answer').textContent.split(' ').length >= 5)
    const cut = await fetch(`${a.url}/cut`, { method: 'POST' })
    assert.equal(cut.status, 204)
    await page.waitForSelector('body[data-terminal]')
    const { cutAt, via, terminal, text } = await page.evaluate(() => ({
      cutAt: document.body.dataset.cut,
      via: document.body.dataset.via,
      terminal: document.body.dataset.terminal,
      text: document.getElementById('answer').textContent,
    }))
    assert.equal(cutAt, 'yes', 'the connection to A was not cut before the answer ended')
    assert.equal(via, 'B')
    assert.equal(terminal, 'end')
    assert.equal(text, Array.from({ length: COUNT }, (_, i) => `t${i}`).join(' '))
    // The upstream generated the answer once.
    assert.equal(upstream.requests.length, 1)
    await page.close()
  },
)
