import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { gzipSync } from 'node:zlib'
import { BUNDLE_BUDGET_BYTES, bundleSizes, formatBytes, repoRoot } from '../infra/build.js'

/**
 * Bundle size and module init time of each Lambda bundle in `.build/` (run `npm run build` first).
 * Size at cold start = index.mjs + the chunks it imports statically (the budget applies to it); total adds the
 * lazily imported chunks; gzip ≈ the deployed zip.
 * Init = `await import(bundle)` in a fresh node process with an empty environment, the median of several runs.
 * Prints a markdown table; exits 1 when a budget is exceeded and `--check` is given.
 * Usage: tsx bench/bundles.ts [--runs 7] [--build-dir .build] [--check]
 */

const INIT_BUDGET_MS = 300

interface Sample {
  wallMs: number
  /** user + system CPU of the process during the import: steadier than wall time on a busy machine. */
  cpuMs: number
}

interface Row {
  name: string
  coldStartBytes: number
  totalBytes: number
  gzipBytes: number
  samples: Sample[]
}

function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(name)
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback
}

/** Time one import in a fresh process, started from an empty temp dir so nothing beside the bundle is found. */
function timeImport(file: string, cwd: string): Sample {
  const script =
    `const c = process.cpuUsage(); const t = performance.now(); ` +
    `await import(${JSON.stringify(pathToFileURL(file).href)}); const w = performance.now() - t; const u = process.cpuUsage(c); ` +
    'process.stdout.write(JSON.stringify({ wallMs: w, cpuMs: (u.user + u.system) / 1000 }))'
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd,
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
    encoding: 'utf8',
  })
  const parsed = JSON.parse(out) as Partial<Sample>
  if (typeof parsed.wallMs !== 'number' || typeof parsed.cpuMs !== 'number')
    throw new Error(`unexpected output: ${out}`)
  return { wallMs: parsed.wallMs, cpuMs: parsed.cpuMs }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

function main(): void {
  const buildDir = path.resolve(repoRoot, argValue('--build-dir', '.build'))
  const runs = Number(argValue('--runs', '7'))
  const names = fs.existsSync(buildDir)
    ? fs
        .readdirSync(buildDir)
        .filter((n) => fs.existsSync(path.join(buildDir, n, 'metafile.json')))
        .sort()
    : []
  if (names.length === 0) {
    console.error(
      `no bundles under ${path.relative(repoRoot, buildDir) || '.'}/; run \`npm run build\` first`,
    )
    process.exitCode = 1
    return
  }
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-bench-'))
  const rows: Row[] = []
  try {
    for (const name of names) {
      const file = path.join(buildDir, name, 'index.mjs')
      const dir = path.join(buildDir, name)
      const shipped = fs
        .readdirSync(dir, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.mjs'))
      const gzipBytes = shipped.reduce((n, f) => n + gzipSync(fs.readFileSync(path.join(dir, f))).length, 0)
      timeImport(file, cwd) // warm the OS file cache; not counted
      const samples = Array.from({ length: runs }, () => timeImport(file, cwd))
      rows.push({ name, ...bundleSizes(dir), gzipBytes, samples })
    }
  } finally {
    fs.rmSync(cwd, { recursive: true, force: true })
  }

  const ok = (pass: boolean) => (pass ? 'ok' : '**over**')
  const load = os.loadavg()[0]!.toFixed(1)
  console.log(
    `Bundles in \`${path.relative(repoRoot, buildDir)}/\`; init = \`await import()\` in a fresh node, median of ${runs} ` +
      `(node ${process.version}, ${os.cpus().length} CPUs, load average ${load} at the end)\n`,
  )
  console.log(
    `| function | at cold start | total | gzip | size ≤ ${formatBytes(BUNDLE_BUDGET_BYTES)} | init wall | wall min–max | init CPU | init ≤ ${INIT_BUDGET_MS} ms |`,
  )
  console.log('|---|---:|---:|---:|---|---:|---:|---:|---|')
  let failed = false
  for (const row of rows) {
    const wall = row.samples.map((s) => s.wallMs)
    const init = median(wall)
    const sizeOk = row.coldStartBytes <= BUNDLE_BUDGET_BYTES
    const initOk = init <= INIT_BUDGET_MS
    failed ||= !sizeOk || !initOk
    console.log(
      `| ${row.name} | ${formatBytes(row.coldStartBytes)} | ${formatBytes(row.totalBytes)} | ${formatBytes(row.gzipBytes)} | ` +
        `${ok(sizeOk)} | ${init.toFixed(0)} ms | ` +
        `${Math.min(...wall).toFixed(0)}–${Math.max(...wall).toFixed(0)} ms | ` +
        `${median(row.samples.map((s) => s.cpuMs)).toFixed(0)} ms | ${ok(initOk)} |`,
    )
  }
  if (Number(load) > os.cpus().length) {
    console.log(
      `\nThe machine was busy (load ${load} on ${os.cpus().length} CPUs): wall times are inflated; CPU time is the steadier figure.`,
    )
  }
  if (failed && process.argv.includes('--check')) process.exitCode = 1
}

main()
