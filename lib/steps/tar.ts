import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { fsReason } from '../files/fs-utils.js'
import {
  ignoreMatcher,
  parseIgnorePattern,
  parseIgnoreRules,
  type IgnoreMatcher,
} from '../files/gitignore.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `tar-config.json`. */
export const TarConfigSchema = z.strictObject({
  inPath: z.string().min(1),
  outPath: z.string().min(1),
  ignore: z.string().min(1).optional(),
  gzip: z.boolean().optional(),
})
export type TarConfig = z.infer<typeof TarConfigSchema>

/** Kargo's limits on what goes into an archive. */
export const MAX_TAR_FILE_BYTES = 50 * 1024 * 1024
export const MAX_TAR_TOTAL_BYTES = 100 * 1024 * 1024

/**
 * The `tar` step: archives a directory's contents (entry names relative to it, directories ending in `/`) or a single
 * file (under its base name) into `outPath`, gzipped with `gzip: true`. Symlinks are stored as links. `ignore` takes
 * `.gitignore` patterns; without it, `.git` is left out. The archive is written to a temporary file and renamed, so
 * an existing `outPath` is replaced whole. Files over 50 MiB, or over 100 MiB in total, are refused.
 */
export const tarCreate: Step<TarConfig> = {
  kind: 'tar',
  config: TarConfigSchema,
  async run(ctx: StepContext, cfg: TarConfig): Promise<StepResult> {
    const inLexical = resolveInWorkspaceReal(ctx.workDir, cfg.inPath, 'inPath')
    const outPath = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
    let inPath: string
    try {
      inPath = fs.realpathSync(inLexical)
    } catch (error) {
      throw new TerminalError(`input path ${JSON.stringify(cfg.inPath)} does not exist`, { cause: error })
    }
    fs.mkdirSync(path.dirname(outPath), { recursive: true, mode: 0o750 })
    const temp = path.join(
      path.dirname(outPath),
      `${path.basename(outPath)}.tmp${crypto.randomBytes(6).toString('hex')}`,
    )

    const fail = (reason: string, cause?: unknown): TerminalError =>
      new TerminalError(`failed to create the tar archive ${JSON.stringify(cfg.outPath)}: ${reason}`, {
        cause,
      })
    try {
      const stat = fs.statSync(inPath)
      const cwd = stat.isDirectory() ? inPath : path.dirname(inPath)
      const skip = new Set([outPath, temp].map((p) => path.resolve(p)))
      const entries = stat.isDirectory()
        ? listEntries(inPath, buildMatcher(cfg.ignore), skip)
        : listSingleFile(inPath, stat, buildMatcher(cfg.ignore))
      await writeArchive(temp, { cwd, gzip: cfg.gzip === true }, entries)
      fs.renameSync(temp, outPath)
      ctx.log(`archived ${entries.length} entries from ${cfg.inPath} into ${cfg.outPath}`)
    } catch (error) {
      fs.rmSync(temp, { force: true })
      if (error instanceof TerminalError) throw fail(error.message, error)
      throw fail(fsReason(error), error)
    }
    return { status: 'Succeeded' }
  },
}

/** Writes `entries` (relative to `cwd`, each added as is, directories not recursed) into a tar file. */
async function writeArchive(
  file: string,
  opts: { cwd: string; gzip: boolean },
  entries: string[],
): Promise<void> {
  // Pack directly: node-tar's `create` would read a name starting with `@` as "add this archive's entries".
  // node-tar loads on first use: most Promotions never archive anything, and it adds to every cold start.
  const nodeTar = await import('tar')
  const pack = new nodeTar.Pack({
    cwd: opts.cwd,
    gzip: opts.gzip,
    portable: true,
    noDirRecurse: true,
    follow: false,
  })
  const done = pipeline(pack, fs.createWriteStream(file, { mode: 0o600 }))
  for (const entry of entries) pack.add(entry)
  pack.end()
  await done
}

/** Kargo's `tar` ignore rules: trimmed lines; with none, `.git` is ignored. */
function buildMatcher(ignore: string | undefined): IgnoreMatcher {
  const patterns = parseIgnoreRules((ignore ?? '').trim(), { trim: true })
  return ignoreMatcher(patterns.length > 0 ? patterns : [parseIgnorePattern('.git')])
}

function listSingleFile(file: string, stat: fs.Stats, ignored: IgnoreMatcher): string[] {
  const name = path.basename(file)
  if (ignored([name], false)) return []
  checkSize(name, stat.size, { total: 0 })
  return [name]
}

function checkSize(name: string, size: number, totals: { total: number }): void {
  if (size > MAX_TAR_FILE_BYTES) {
    throw new TerminalError(
      `file ${JSON.stringify(name)} size (${size} bytes) exceeds the maximum allowed single file size (${MAX_TAR_FILE_BYTES} bytes)`,
    )
  }
  totals.total += size
  if (totals.total > MAX_TAR_TOTAL_BYTES) {
    throw new TerminalError(
      `total tar archive source size exceeds the maximum allowed size (${MAX_TAR_TOTAL_BYTES} bytes)`,
    )
  }
}

/** The directory's entries in walk order (lexical, parents first), minus ignored ones; sizes checked. */
function listEntries(root: string, ignored: IgnoreMatcher, skip: Set<string>): string[] {
  const out: string[] = []
  const totals = { total: 0 }
  const walk = (dir: string, prefix: string): void => {
    const entries = fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const abs = path.join(dir, entry.name)
      if (skip.has(abs)) continue
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name
      const isDir = entry.isDirectory()
      if (ignored(rel.split('/'), isDir)) continue
      if (entry.isFile()) checkSize(rel, fs.statSync(abs).size, totals)
      else if (!isDir && !entry.isSymbolicLink()) continue
      out.push(rel)
      if (isDir) walk(abs, rel)
    }
  }
  walk(root, '')
  return out
}
