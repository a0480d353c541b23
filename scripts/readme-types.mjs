// Type-checks the README's TypeScript blocks (`npm run test:types`): each ```ts block becomes a module
// under target/readme-types/ (inside the package, so `native-sse` resolves to it), with `declare`s for
// the free names the snippets assume (an API key, an Express app, ...), and tsc checks them all.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const out = join(root, 'target', 'readme-types')
const free = {
  key: 'declare const key: string',
  body: 'declare const body: object',
  url: 'declare const url: string',
  headers: 'declare const headers: Record<string, string>',
  sse: "declare const sse: import('native-sse').ServerSentEvents",
  messages: 'declare const messages: object[]',
  tools: 'declare const tools: object[]',
  app: [
    'type Req = { body: object; params: Record<string, string> }',
    "type Res = import('node:http').ServerResponse & { json(value: unknown): void }",
    'declare const app: { [verb in "get" | "post"]: (path: string, handler: (req: Req, res: Res) => unknown) => void }',
  ].join('\n'),
}
const blocks = [...readFileSync(join(root, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1])
rmSync(out, { recursive: true, force: true })
mkdirSync(out, { recursive: true })
const files = blocks.map((code, i) => {
  const declared = (name) =>
    new RegExp(`(const|let|var|function)\\s+${name}\\b|import[^\\n]*[{,]\\s*${name}\\b`).test(code)
  const preamble = Object.entries(free)
    .filter(([name]) => new RegExp(`\\b${name}\\b`).test(code) && !declared(name))
    .map(([, line]) => line)
  const file = join(out, `block-${i + 1}.mts`)
  writeFileSync(file, `${preamble.join('\n')}\n${code}\nexport {}\n`)
  return file
})
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
const flags = ['--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022']
execFileSync(process.execPath, [tsc, ...flags, '--types', 'node', ...files], { stdio: 'inherit', cwd: root })
console.log(`README: ${files.length} TypeScript blocks type-check`)
