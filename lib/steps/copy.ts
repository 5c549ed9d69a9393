import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import { fsReason, isWithin, lstatOrUndefined, resolveFollowingLinks } from '../files/fs-utils.js'
import {
  ignoreMatcher,
  parseIgnorePattern,
  parseIgnoreRules,
  type IgnoreMatcher,
} from '../files/gitignore.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `copy-config.json`. */
export const CopyConfigSchema = z.strictObject({
  inPath: z.string().min(1),
  outPath: z.string().min(1),
  ignore: z.string().min(1).optional(),
})
export type CopyConfig = z.infer<typeof CopyConfigSchema>

/**
 * The `copy` step (Kargo's `copy`, via otiai10/copy): copies a file to `outPath` (parents created, an existing file
 * overwritten), or a directory recursively, merging into an existing directory. Symlinks are skipped, permissions
 * kept. Inside a directory, `.git` and the `ignore` patterns (`.gitignore` syntax, relative to `inPath`) are skipped.
 * A symlink at `inPath` itself is followed (as Kargo's secure join does), but only to a place inside the workspace.
 */
export const copyFiles: Step<CopyConfig> = {
  kind: 'copy',
  config: CopyConfigSchema,
  async run(ctx: StepContext, cfg: CopyConfig): Promise<StepResult> {
    const inLexical = resolveInWorkspaceReal(ctx.workDir, cfg.inPath, 'inPath')
    const outPath = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
    const label = `${JSON.stringify(cfg.inPath)} to ${JSON.stringify(cfg.outPath)}`
    const failure = (reason: string, cause?: unknown): TerminalError =>
      new TerminalError(`failed to copy ${label}: ${reason}`, { cause })
    let inPath: string
    try {
      inPath = fs.realpathSync(inLexical)
    } catch (error) {
      throw failure(fsReason(error), error)
    }
    const stat = fs.statSync(inPath)
    const realOut = resolveFollowingLinks(path.parse(outPath).root, outPath) ?? outPath
    if (stat.isDirectory() && isWithin(inPath, realOut)) {
      throw failure('cannot copy a directory into itself')
    }
    const patterns = [parseIgnorePattern('.git'), ...parseIgnoreRules(cfg.ignore ?? '')]
    const ctxCopy: CopyContext = {
      workDir: ctx.workDir,
      ignored: ignoreMatcher(patterns),
      root: inPath,
      counts: { files: 0, dirs: 0 },
    }
    try {
      if (stat.isDirectory()) copyDir(ctxCopy, inPath, outPath, stat)
      else if (stat.isFile()) copyFile(ctxCopy, inPath, outPath, stat)
      else throw new TerminalError('not a regular file or directory')
    } catch (error) {
      throw failure(error instanceof TerminalError ? error.message : fsReason(error), error)
    }
    ctx.log(`copied ${ctxCopy.counts.files} file(s) from ${cfg.inPath} to ${cfg.outPath}`)
    return { status: 'Succeeded' }
  },
}

interface CopyContext {
  workDir: string
  ignored: IgnoreMatcher
  /** The (real) directory the ignore patterns are relative to. */
  root: string
  counts: { files: number; dirs: number }
}

/** Refuses a destination that leads outside the workspace through an existing symlink inside `outPath`. */
function checkDestination(c: CopyContext, dest: string): void {
  resolveInWorkspaceReal(c.workDir, path.relative(c.workDir, dest), 'outPath')
}

function copyFile(c: CopyContext, src: string, dest: string, stat: fs.Stats): void {
  checkDestination(c, dest)
  fs.mkdirSync(path.dirname(dest), { recursive: true })
  fs.copyFileSync(src, dest)
  fs.chmodSync(dest, stat.mode & 0o7777)
  c.counts.files++
}

function copyDir(c: CopyContext, src: string, dest: string, stat: fs.Stats): void {
  checkDestination(c, dest)
  const existing = lstatOrUndefined(dest)
  if (existing && !fs.statSync(dest).isDirectory())
    throw new TerminalError(`${path.basename(dest)}: not a directory`)
  // Created writable first so the copy can fill it, then given the source's mode (otiai10/copy does the same).
  fs.mkdirSync(dest, { recursive: true, mode: 0o755 })
  c.counts.dirs++
  const entries = fs
    .readdirSync(src, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const from = path.join(src, entry.name)
    const to = path.join(dest, entry.name)
    if (entry.isSymbolicLink()) continue
    const isDir = entry.isDirectory()
    if (c.ignored(path.relative(c.root, from).split(path.sep), isDir)) continue
    const entryStat = fs.lstatSync(from)
    if (isDir) copyDir(c, from, to, entryStat)
    else if (entry.isFile()) copyFile(c, from, to, entryStat)
  }
  fs.chmodSync(dest, stat.mode & 0o7777)
}
