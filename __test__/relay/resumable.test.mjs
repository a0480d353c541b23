// Resumable relays across "server instances": each instance is its own Node process with its own
// SSEClient (helpers/relay-instance.mjs). On the in-memory store one instance plays both roles (its
// log lives in that process); on Redis, A produces and B resumes, with a real redis-server started
// here. The upstream is a real local server streaming numbered tokens.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { redisCommand, redisSkip, startRedis } from '../helpers/redis.mjs'
import { rng } from '../helpers/random.mjs'
import { readStream, startInstance, startUpstream } from '../helpers/resumable.mjs'

const tokens = (from, to) => Array.from({ length: to - from }, (_, i) => `t${from + i}`)
let generation = 0
const newId = () => `gen-${process.pid}-${++generation}`

/** Two instances on one store: A produces, B resumes (the same process on the memory store). */
async function twoInstances(kind, storeOptions = {}) {
  if (kind === 'memory') {
    const a = await startInstance(storeOptions)
    return { a, b: a, redis: null, stop: () => a.stop() }
  }
  const redis = await startRedis()
  const store = { url: redis.url, ...storeOptions }
  const [a, b] = await Promise.all([startInstance(store), startInstance(store)])
  return {
    a,
    b,
    redis,
    async stop() {
      await Promise.all([a.stop(), b.stop()])
      await redis.stop()
    },
  }
}

for (const kind of ['memory', 'redis']) {
  const skip = kind === 'redis' ? redisSkip : false

  test(
    `${kind}: a browser cut after any k events resumes with exactly the events after k, no duplicate, no gap`,
    { skip },
    async () => {
      // Writes of 3 events: some cuts fall inside one read's batch.
      const upstream = await startUpstream({ count: 24, group: 3, gapMs: 10 })
      const { a, b, stop } = await twoInstances(kind)
      try {
        const seed = Number(process.env.RESUME_SEED ?? 7)
        const r = rng(seed)
        for (let round = 0; round < 6; round++) {
          const id = newId()
          const k = 1 + Math.floor(r() * 22)
          const live = await readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
            method: 'POST',
            cutAfter: k,
          })
          assert.equal(live.status, 200)
          assert.deepEqual(
            live.events.map((e) => e.data),
            tokens(0, k),
            `seed ${seed} round ${round}`,
          )
          const rest = await readStream(`${b.url}/resume?id=${id}`, {
            headers: { 'last-event-id': live.events[k - 1].id },
          })
          assert.equal(rest.status, 200)
          const data = rest.events.map((e) => e.data)
          assert.deepEqual(data.slice(0, -1), tokens(k, 24), `seed ${seed} round ${round}, cut after ${k}`)
          assert.equal(rest.events.at(-1).event, 'end')
          // Ids rise strictly: the browser's Last-Event-ID always points into the log.
          const ids = [...live.events, ...rest.events].map((e) => e.id)
          assert.equal(new Set(ids).size, ids.length)
        }
      } finally {
        await stop()
        await upstream.close()
      }
    },
  )

  test(
    `${kind}: a finished generation replays whole; an unknown id is 404; a used id is refused before any header`,
    { skip },
    async () => {
      const upstream = await startUpstream({ count: 5, gapMs: 1 })
      const { a, b, stop } = await twoInstances(kind)
      try {
        const id = newId()
        const live = await readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
          method: 'POST',
        })
        assert.deepEqual(
          live.events.map((e) => e.data),
          [...tokens(0, 5), ''],
        )
        const replay = await readStream(`${b.url}/resume?id=${id}`)
        assert.deepEqual(replay.events, live.events)
        const unknown = await readStream(`${b.url}/resume?id=never-started`)
        assert.equal(unknown.status, 404)
        // After the terminal event nothing is left: 204, so that EventSource stops reconnecting.
        const after = await readStream(`${b.url}/resume?id=${id}`, {
          headers: { 'last-event-id': live.events.at(-1).id },
        })
        assert.equal(after.status, 204)
        const again = await readStream(`${b.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
          method: 'POST',
        })
        assert.equal(again.status, 503)
        assert.equal(again.body, 'GENERATION_EXISTS')
        assert.equal(upstream.requests.length, 1)
      } finally {
        await stop()
        await upstream.close()
      }
    },
  )

  test(
    `${kind}: ten readers on two instances each get the whole answer, and the upstream is asked once`,
    { skip },
    async () => {
      const upstream = await startUpstream({ count: 40, gapMs: 10 })
      const { a, b, stop } = await twoInstances(kind)
      try {
        const id = newId()
        const producer = readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
          method: 'POST',
          cutAfter: 1,
        })
        // The log exists once the producer's first event arrived.
        await producer
        const readers = Array.from({ length: 10 }, (_, i) => readStream(`${(i % 2 ? a : b).url}/resume?id=${id}`))
        for (const reader of await Promise.all(readers)) {
          assert.deepEqual(
            reader.events.map((e) => e.data),
            [...tokens(0, 40), ''],
          )
        }
        assert.equal(upstream.requests.length, 1)
      } finally {
        await stop()
        await upstream.close()
      }
    },
  )

  test(
    `${kind}: stop(id) on another instance cuts the upstream within 1 s and readers get 'stopped'`,
    { skip },
    async () => {
      const upstream = await startUpstream({ count: 100_000, gapMs: 20 })
      const { a, b, stop } = await twoInstances(kind)
      try {
        const id = newId()
        await readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
          method: 'POST',
          cutAfter: 2,
        })
        const reader = readStream(`${b.url}/resume?id=${id}`)
        const asked = Date.now()
        const answer = await (await fetch(`${b.url}/stop?id=${id}`, { method: 'POST' })).json()
        assert.deepEqual(answer, { stopped: true })
        const closedAt = await upstream.closedEarly
        assert.ok(closedAt - asked < 1000, `the upstream was cut ${closedAt - asked} ms after stop()`)
        const { events } = await reader
        assert.equal(events.at(-1).event, 'stopped')
        assert.equal(JSON.parse(events.at(-1).data).code, 'STOPPED')
        const later = await (await fetch(`${b.url}/stop?id=${id}`, { method: 'POST' })).json()
        assert.deepEqual(later, { stopped: false })
      } finally {
        await stop()
        await upstream.close()
      }
    },
  )
}

test(
  'redis: kill -9 of the producing process: every reader ends with interrupted within lease + 1 s',
  { skip: redisSkip },
  async () => {
    const upstream = await startUpstream({ count: 100_000, gapMs: 20 })
    const lease = 1000
    const { a, b, stop } = await twoInstances('redis', { lease })
    try {
      const id = newId()
      await readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
        method: 'POST',
        cutAfter: 2,
      })
      const readers = [readStream(`${b.url}/resume?id=${id}`), readStream(`${b.url}/resume?id=${id}`)]
      await a.kill()
      const killed = Date.now()
      for (const { events } of await Promise.all(readers)) {
        assert.equal(events.at(-1).event, 'interrupted')
        assert.equal(JSON.parse(events.at(-1).data).code, 'INTERRUPTED')
      }
      const waited = Date.now() - killed
      assert.ok(waited <= lease + 1000, `readers learned of the lost producer after ${waited} ms`)
    } finally {
      await stop()
      await upstream.close()
    }
  },
)

test(
  'redis: a finished log gets its ttl; maxLen trims a running one and a cursor behind it is refused',
  { skip: redisSkip },
  async () => {
    const upstream = await startUpstream({ count: 20, gapMs: 1 })
    const { a, b, redis, stop } = await twoInstances('redis', { ttl: 60_000, maxLen: 5 })
    try {
      const id = newId()
      const live = await readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
        method: 'POST',
      })
      assert.equal(live.events.length, 21)
      const ttl = Number(await redisCommand(redis.port, 'TTL', `nsse:{${id}}:log`))
      assert.ok(ttl > 0 && ttl <= 60, `TTL ${ttl}`)
      assert.equal(Number(await redisCommand(redis.port, 'XLEN', `nsse:{${id}}:log`)), 5)
      const behind = await readStream(`${b.url}/resume?id=${id}`, { headers: { 'last-event-id': live.events[2].id } })
      assert.equal(behind.status, 503)
      assert.equal(behind.body, 'RESUME_GAP')
      const tail = await readStream(`${b.url}/resume?id=${id}`, { headers: { 'last-event-id': live.events[17].id } })
      assert.deepEqual(
        tail.events.map((e) => e.data),
        ['t18', 't19', ''],
      )
    } finally {
      await stop()
      await upstream.close()
    }
  },
)

test(
  'redis: down at the start, the relay answers STORE before any header; after a restart it works again',
  { skip: redisSkip },
  async () => {
    const upstream = await startUpstream({ count: 3, gapMs: 1 })
    const { a, redis, stop } = await twoInstances('redis', {})
    try {
      await redis.kill()
      const refused = await readStream(`${a.url}/produce?id=${newId()}&upstream=${encodeURIComponent(upstream.url)}`, {
        method: 'POST',
      })
      assert.equal(refused.status, 503)
      assert.equal(refused.body, 'STORE')
      assert.equal(upstream.requests.length, 0)
      await redis.restart()
      const works = await readStream(`${a.url}/produce?id=${newId()}&upstream=${encodeURIComponent(upstream.url)}`, {
        method: 'POST',
      })
      assert.equal(works.status, 200)
      assert.deepEqual(
        works.events.map((e) => e.data),
        [...tokens(0, 3), ''],
      )
    } finally {
      await stop()
      await upstream.close()
    }
  },
)

test('redis: killed mid-stream, the live response still gets the whole answer', { skip: redisSkip }, async () => {
  const upstream = await startUpstream({ count: 30, gapMs: 15 })
  const { a, redis, stop } = await twoInstances('redis', {})
  try {
    const id = newId()
    const live = readStream(`${a.url}/produce?id=${id}&upstream=${encodeURIComponent(upstream.url)}`, {
      method: 'POST',
    })
    // Killed once the upstream is under way.
    await new Promise((resolve) => upstream.server.once('request', resolve))
    await redis.kill()
    const { events } = await live
    assert.deepEqual(
      events.filter((e) => e.event === 'message').map((e) => e.data),
      tokens(0, 30),
    )
  } finally {
    await stop()
    await upstream.close()
  }
})
