// Every relative link in the Markdown files under a folder names a file that exists there.
// scripts/pack-lint.sh runs it on the unpacked tarball: npm shows the README, and its links (and
// those of docs/) must work for a user who installed the package, not only in a clone.
//
//   node scripts/check-md-links.mjs <folder>
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'

const root = resolve(process.argv[2] ?? '.')
const files = []
const walk = (dir) => {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (['node_modules', '.git', 'target'].includes(entry.name)) continue
    const file = join(dir, entry.name)
    if (entry.isDirectory()) walk(file)
    else files.push(file)
  }
}
walk(root)

let checked = 0
let broken = 0
for (const md of files.filter((file) => file.endsWith('.md'))) {
  // Links inside code blocks are examples, not links.
  const text = readFileSync(md, 'utf8').replace(/```[\s\S]*?```/g, '')
  for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z][a-z+.-]*:/i.test(target) || target.startsWith('#')) continue
    checked++
    if (!existsSync(resolve(dirname(md), decodeURIComponent(target.split('#')[0])))) {
      broken++
      console.error(`   ${relative(root, md)}: (${target}) does not exist`)
    }
  }
}
console.log(`   ${checked} relative links checked, ${broken} broken`)
process.exit(broken ? 1 : 0)
