// SemVer selection CPU time over 10,000 tags, against a plain sort of the same strings measured in the same run.
// Run: npx tsx bench/discovery/selection.ts
import { selectSemver, sortLexicalDesc } from '../../lib/semver/index.js'

const tagCount = 10_000
const rounds = 30

/** A realistic tag mix: releases, v-prefixed, prereleases, build metadata, and non-SemVer tags (shas, latest, dates). */
function makeTags(n: number): string[] {
  let seed = 42
  const rand = (k: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % k
  }
  const tags: string[] = []
  for (let i = 0; i < n; i++) {
    const v = `${rand(5)}.${rand(40)}.${rand(300)}`
    switch (rand(8)) {
      case 0:
        tags.push(`v${v}`)
        break
      case 1:
        tags.push(`${v}-rc.${rand(5)}`)
        break
      case 2:
        tags.push(`${v}+build.${rand(100)}`)
        break
      case 3:
        tags.push(
          rand(16).toString(16) +
            Math.floor(Math.abs(Math.sin(i)) * 1e9)
              .toString(16)
              .padStart(7, '0'),
        )
        break
      case 4:
        tags.push(`2024${String(rand(12) + 1).padStart(2, '0')}${String(rand(28) + 1).padStart(2, '0')}`)
        break
      default:
        tags.push(v)
    }
  }
  return tags
}

/** Median CPU milliseconds (user + system) of `fn` over `rounds`, after warm-up. */
function cpuMs(fn: () => unknown): number {
  for (let i = 0; i < 5; i++) fn()
  const samples: number[] = []
  for (let i = 0; i < rounds; i++) {
    const start = process.cpuUsage()
    fn()
    const used = process.cpuUsage(start)
    samples.push((used.user + used.system) / 1000)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)] ?? Number.NaN
}

const tags = makeTags(tagCount)
const baseline = cpuMs(() => [...tags].sort())
const rows: Array<[string, number]> = [
  ['baseline: `[...tags].sort()`', baseline],
  ['SemVer, strict, no constraint', cpuMs(() => selectSemver(tags, { strict: true }))],
  [
    'SemVer, strict, `^1.x`, limit 20',
    cpuMs(() => selectSemver(tags, { strict: true, constraint: '^1.x', limit: 20 })),
  ],
  [
    'SemVer, loose, `>=1.2.3, <3 || >=4.0.0-0`',
    cpuMs(() => selectSemver(tags, { strict: false, constraint: '>=1.2.3, <3 || >=4.0.0-0' })),
  ],
  ['Lexical', cpuMs(() => sortLexicalDesc(tags))],
]

console.log(
  `Selection over ${tagCount.toLocaleString('en')} tags (median CPU of ${rounds} runs, node ${process.version})\n`,
)
console.log('| selection | CPU ms | × baseline | budget (< 50 ms) |')
console.log('|---|---:|---:|---|')
for (const [name, ms] of rows) {
  const budget = name.startsWith('baseline') ? '' : ms < 50 ? 'ok' : 'OVER'
  console.log(`| ${name} | ${ms.toFixed(2)} | ${(ms / baseline).toFixed(1)} | ${budget} |`)
}
