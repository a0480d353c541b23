// The recorded-shape AI stream fixtures (crates/sse-core/test-data/ai, shared with the Rust tests)
// and an RFC 6901 pointer lookup over a JSON.parse result, the JS reference for `select`.
import { readFileSync } from 'node:fs'

/** The bytes of test-data/ai/<name>. */
export const aiFixture = (name) =>
  readFileSync(new URL(`../../crates/sse-core/test-data/ai/${name}`, import.meta.url), 'utf8')

/** The value at `pointer` in `doc` (RFC 6901), or undefined. */
export function lookup(doc, pointer) {
  if (pointer === '') return doc
  let value = doc
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    if (Array.isArray(value)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return undefined
      value = value[Number(token)]
    } else if (value !== null && typeof value === 'object') {
      value = Object.hasOwn(value, token) ? value[token] : undefined
    } else {
      return undefined
    }
    if (value === undefined) return undefined
  }
  return value
}
