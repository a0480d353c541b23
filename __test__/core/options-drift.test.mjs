// Each option is declared once, in src/options.rs (binding.d.ts is generated from it). The JS
// module's type table (lib/internal/options.js), the public types (index.d.ts) and the README's
// option tables restate the names; this test fails when any of them disagrees with the binding.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { REQUEST_FIELDS, CLIENT_FIELDS } = require('../../lib/internal/options.js')
const read = (path) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8')

/** The fields of `interface name { ... }` in a .d.ts: { field: 'type text' }. */
function interfaceFields(source, name) {
  const start = source.search(new RegExp(`export interface ${name}\\b[^{]*\\{`))
  assert.notEqual(start, -1, `interface ${name} not found`)
  const body = source.slice(source.indexOf('{', start) + 1, source.indexOf('\n}', start))
  const fields = {}
  // Comments first: they may contain `name?:`-looking text.
  const code = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')
  for (const m of code.matchAll(/^\s*(\w+)\??:\s*(.+)$/gm)) fields[m[1]] = m[2].trim()
  return fields
}

/** The option names of the README table under the line that names `heading`. */
function readmeOptions(heading) {
  const lines = read('README.md').split('\n')
  let i = lines.findIndex((line) => line.trim() === heading)
  assert.notEqual(i, -1, `README has no line ${heading}`)
  while (!lines[i].startsWith('| option')) i++
  const names = new Set()
  for (i += 2; lines[i]?.startsWith('|'); i++) {
    const first = lines[i].split('|')[1]
    for (const m of first.matchAll(/`(\w+)/g)) names.add(m[1])
  }
  return names
}

const binding = read('binding.d.ts')
const index = read('index.d.ts')
// Fields the JS module fills itself: the URL, method, encoded body and headers, the relay's mode.
const BUILT_BY_JS = new Set(['url', 'method', 'body', 'bodyType', 'headers', 'text', 'messages', 'generation'])
const TYPE = {
  number: 'number',
  string: 'string',
  boolean: 'boolean',
  pem: 'string | Uint8Array',
  store: 'string | StoreOptions',
  select: 'string | Array<string>',
}

for (const [name, table] of [
  ['RequestOptions', REQUEST_FIELDS],
  ['ClientOptions', CLIENT_FIELDS],
]) {
  const declared = interfaceFields(binding, name)
  const passed = Object.keys(declared).filter((field) => !BUILT_BY_JS.has(field))

  test(`lib/internal/options.js passes every ${name} field of the binding, with its type`, () => {
    assert.deepEqual(Object.keys(table).sort(), passed.sort())
    for (const field of passed) assert.equal(TYPE[table[field]], declared[field], `${name}.${field}`)
  })

  test(`index.d.ts declares every ${name} field of the binding`, () => {
    const common = interfaceFields(index, 'CommonOptions')
    const public_ = { ...common, ...interfaceFields(index, name) }
    for (const field of Object.keys(declared)) {
      if (BUILT_BY_JS.has(field) && field !== 'url' && field !== 'body' && field !== 'headers') continue
      assert.ok(field in public_, `index.d.ts ${name} lacks ${field}`)
    }
  })

  test(`the README's ${name} table lists every field of the binding`, () => {
    const listed = readmeOptions(name === 'RequestOptions' ? '`RequestOptions`:' : '`ClientOptions` (all optional):')
    for (const field of Object.keys(declared)) {
      if (BUILT_BY_JS.has(field) && field !== 'url' && field !== 'body' && field !== 'headers') continue
      assert.ok(listed.has(field), `README ${name} table lacks ${field}`)
    }
  })
}

test('an option of the wrong type is INVALID_OPTIONS naming it, before the binding sees it', async () => {
  const { SSEClient } = await import('../../index.mjs')
  const sse = new SSEClient().create()
  assert.throws(() => sse.post({ url: 'http://127.0.0.1:9/', timeout: '10' }), {
    code: 'INVALID_OPTIONS',
    message: 'timeout must be a number, got string',
  })
  assert.throws(() => new SSEClient({ ca: 42 }), {
    code: 'INVALID_OPTIONS',
    message: 'ca must be a string or binary data, got number',
  })
})
