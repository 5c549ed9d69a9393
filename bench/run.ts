/**
 * Runs every benchmark in turn and prints their markdown tables (paste into docs/benchmarks.md).
 * Run: npm run bench   (builds the Lambda bundles first)
 */
import { execFileSync } from 'node:child_process'

const scripts = [
  'bench/discovery/selection.ts',
  'bench/discovery/requests.ts',
  'bench/promotion/seed-pipeline.ts',
  'bench/bundles.ts',
]
execFileSync('npx', ['tsx', 'infra/build.ts'], { stdio: 'inherit' })
for (const script of scripts) {
  console.log(`\n### ${script}\n`)
  execFileSync('npx', ['tsx', script], { stdio: 'inherit' })
}
