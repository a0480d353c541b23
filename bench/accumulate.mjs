// `accumulate` end to end: one stream whose tool call's arguments arrive in one-character deltas
// (OpenAI chat chunks or Anthropic input_json_delta events), served from memory by a local
// node:http server in one write, read until the assembled message is in hand:
//
//   native-sse       post({ accumulate }) and `await req.final` (no onMessage)
//   openai-node      client.chat.completions.stream(...).finalChatCompletion() (a non-strict tool,
//                    then a strict one: the SDK then re-parses the partial arguments on each delta)
//   Anthropic SDK    client.messages.stream(...).finalMessage() (re-parses the partial input JSON
//                    on each delta)
//
// Each measurement runs in a fresh child process, killed after --limit seconds (reported as
// "> limit"). Timed: from the request to the final message, best of --runs. The streams are made
// before the clock starts. The same streams without HTTP: `cargo run --release -p sse-core
// --example accumulate` (bench/accumulate.rs).
//
//   node bench/accumulate.mjs [--runs 3] [--limit 60] [--sizes 8192,32768,131072,262144,120000]
//                             [--readers native,openai,openai-strict,anthropic]
import { fork } from 'node:child_process'
import http from 'node:http'
import { once } from 'node:events'
import os from 'node:os'
import { parseArgs } from 'node:util'
import { performance } from 'node:perf_hooks'

const CHAT_HEAD = '{"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":'

/** The stream's bytes: `n` one-character deltas of `{"a":"xxx..."}`. */
function streamText(format, n) {
  const args = `{"a":"${'x'.repeat(Math.max(0, n - 8))}"}`
  const parts = []
  if (format === 'openai-chat') {
    parts.push(
      `data: ${CHAT_HEAD}{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call","type":"function","function":{"name":"f","arguments":""}}]},"finish_reason":null}]}\n\n`,
    )
    for (const c of args) {
      parts.push(
        `data: ${CHAT_HEAD}{"tool_calls":[{"index":0,"function":{"arguments":${JSON.stringify(c)}}}]},"finish_reason":null}]}\n\n`,
      )
    }
    parts.push(`data: ${CHAT_HEAD}{},"finish_reason":"tool_calls"}]}\n\ndata: [DONE]\n\n`)
  } else {
    parts.push(
      'event: message_start\ndata: {"type":"message_start","message":{"id":"m","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":1,"output_tokens":1}}}\n\n',
      'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"t","name":"f","input":{}}}\n\n',
    )
    for (const c of args) {
      parts.push(
        `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(c)}}}\n\n`,
      )
    }
    parts.push(
      'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n',
      'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":9}}\n\n',
      'event: message_stop\ndata: {"type":"message_stop"}\n\n',
    )
  }
  return Buffer.from(parts.join(''))
}

/** Child: one measurement; prints { ms } or { error }. */
async function child([reader, format, n, runs]) {
  const body = streamText(format, Number(n))
  const server = http.createServer((req, res) => {
    req.resume()
    res.writeHead(200, { 'content-type': 'text/event-stream' })
    res.end(body)
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const base = `http://127.0.0.1:${server.address().port}`
  const read = await makeReader(reader, format, base)
  let best = Infinity
  for (let i = 0; i < Number(runs); i++) {
    const start = performance.now()
    const length = await read()
    best = Math.min(best, performance.now() - start)
    if (!(length >= Number(n) - 8)) throw new Error(`assembled ${length} argument characters, expected ${n}`)
  }
  server.close()
  process.send({ ms: best, mb: body.length / 2 ** 20 })
}

async function makeReader(reader, format, base) {
  if (reader === 'native') {
    const { SSEClient } = await import('../index.mjs')
    const sse = new SSEClient().create()
    return async () => {
      const final = await sse.post({ url: `${base}/`, accumulate: format, doneData: '[DONE]' }).final
      return format === 'openai-chat'
        ? final.choices[0].message.tool_calls[0].function.parsed_arguments.a.length
        : final.content[0].input.a.length
    }
  }
  if (reader.startsWith('openai')) {
    const { default: OpenAI } = await import('openai')
    const client = new OpenAI({ apiKey: 'bench', baseURL: `${base}/v1`, maxRetries: 0 })
    const tool = { type: 'function', function: { name: 'f', parameters: { type: 'object' } } }
    if (reader === 'openai-strict') {
      tool.function.strict = true
      tool.function.parameters = {
        type: 'object',
        properties: { a: { type: 'string' } },
        required: ['a'],
        additionalProperties: false,
      }
    }
    return async () => {
      const completion = await client.chat.completions
        .stream({ model: 'm', messages: [], tools: [tool] })
        .finalChatCompletion()
      return JSON.parse(completion.choices[0].message.tool_calls[0].function.arguments).a.length
    }
  }
  const { default: Anthropic } = await import('@anthropic-ai/sdk')
  const client = new Anthropic({ apiKey: 'bench', baseURL: base, maxRetries: 0 })
  return async () => {
    const message = await client.messages.stream({ model: 'm', max_tokens: 1, messages: [] }).finalMessage()
    return message.content[0].input.a.length
  }
}

function measure(reader, format, n, runs, limitS) {
  return new Promise((resolve) => {
    const proc = fork(new URL(import.meta.url), ['--child', reader, format, String(n), String(runs)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    })
    const timer = setTimeout(() => {
      proc.kill('SIGKILL')
      resolve({ timedOut: true })
    }, limitS * 1000)
    proc.once('message', (msg) => {
      clearTimeout(timer)
      proc.kill()
      resolve(msg)
    })
    proc.once('exit', (code) => {
      clearTimeout(timer)
      resolve({ error: `exit ${code}` })
    })
  })
}

const READERS = {
  'openai-chat': [
    ['native', "native-sse accumulate: 'openai-chat'"],
    ['openai', 'openai-node finalChatCompletion()'],
    ['openai-strict', 'openai-node finalChatCompletion(), strict tool (parses on each delta)'],
  ],
  'anthropic-messages': [
    ['native', "native-sse accumulate: 'anthropic-messages'"],
    ['anthropic', 'Anthropic SDK finalMessage()'],
  ],
}

async function main() {
  const { values: a } = parseArgs({
    options: {
      runs: { type: 'string', default: '3' },
      limit: { type: 'string', default: '60' },
      sizes: { type: 'string', default: '8192,32768,131072,262144,120000' },
      readers: { type: 'string', default: 'native,openai,openai-strict,anthropic' },
    },
  })
  const sizes = a.sizes.split(',').map(Number)
  const wanted = new Set(a.readers.split(','))
  const lines = [
    `- date: ${new Date().toISOString()}`,
    `- node: ${process.version}; CPU: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores; load average at start: ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}`,
    `- command: \`node bench/accumulate.mjs --runs ${a.runs} --limit ${a.limit} --sizes ${a.sizes} --readers ${a.readers}\``,
    '',
    '| format | reader | deltas | stream MB | ms to the final message |',
    '| --- | --- | --- | --- | --- |',
  ]
  for (const [format, readers] of Object.entries(READERS)) {
    for (const [reader, label] of readers) {
      if (!wanted.has(reader)) continue
      for (const n of sizes) {
        const r = await measure(reader, format, n, Number(a.runs), Number(a.limit))
        const ms = r.timedOut ? `> ${Number(a.limit) * 1000} (killed)` : (r.error ?? r.ms.toFixed(1))
        const line = `| ${format} | ${label} | ${n.toLocaleString('en-US')} | ${r.mb?.toFixed(1) ?? ''} | ${ms} |`
        console.log(line)
        lines.push(line)
      }
    }
  }
  console.log(`\n${lines.join('\n')}`)
}

if (process.argv[2] === '--child') await child(process.argv.slice(3))
else await main()
