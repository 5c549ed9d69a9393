import fs from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import type { ReadEntry } from 'tar'
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

/** Mirrors `untar-config.json`. */
export const UntarConfigSchema = z.strictObject({
  inPath: z.string().min(1),
  outPath: z.string().min(1),
  stripComponents: z.number().int().min(0).optional(),
  ignore: z.string().min(1).optional(),
})
export type UntarConfig = z.infer<typeof UntarConfigSchema>

/** Kargo's limits on what an archive may expand to. */
export const MAX_UNTAR_FILE_BYTES = 50 * 1024 * 1024
export const MAX_UNTAR_TOTAL_BYTES = 100 * 1024 * 1024

const DIR_MODE = 0o750

/**
 * The `untar` step: extracts a tar archive (gzipped or not, detected from its content) into `outPath`, replacing
 * whatever was there. Extraction happens in a temporary directory of the workspace that is then renamed into place.
 *   - Only regular files, directories and symlinks are extracted; `stripComponents` drops leading path parts (entries
 *     with no more parts are skipped).
 *   - Unsafe entries are skipped, never written: absolute names, names with `..` segments (zip-slip), `./` or `\`;
 *     symlinks whose target is absolute, climbs with `../`, or leads (following other links) outside `outPath`; and
 *     anything that would be written through a symlink.
 *   - `ignore` takes `.gitignore` patterns, matched against the (stripped) entry names; without it, `.git` is skipped.
 *   - Files over 50 MiB, or over 100 MiB in total, abort the extraction.
 */
export const untar: Step<UntarConfig> = {
  kind: 'untar',
  config: UntarConfigSchema,
  async run(ctx: StepContext, cfg: UntarConfig): Promise<StepResult> {
    const inPath = resolveInWorkspaceReal(ctx.workDir, cfg.inPath, 'inPath')
    const outPath = resolveInWorkspaceReal(ctx.workDir, cfg.outPath, 'outPath')
    if (path.resolve(outPath) === path.resolve(ctx.workDir)) {
      throw new TerminalError(
        'outPath must not be the promotion workspace itself: untar replaces its contents',
      )
    }
    if (!fs.existsSync(inPath)) {
      throw new TerminalError(
        `failed to extract tar file ${JSON.stringify(cfg.inPath)}: no such file or directory`,
      )
    }
    const temp = fs.mkdtempSync(path.join(ctx.workDir, '.untar-'))
    try {
      const extracted = await extract({
        file: inPath,
        root: fs.realpathSync(temp),
        strip: cfg.stripComponents ?? 0,
        ignored: buildMatcher(cfg.ignore),
        log: ctx.log,
      })
      fs.mkdirSync(path.dirname(outPath), { recursive: true, mode: DIR_MODE })
      fs.rmSync(outPath, { recursive: true, force: true })
      fs.renameSync(temp, outPath)
      ctx.log(`extracted ${extracted} entries from ${cfg.inPath} into ${cfg.outPath}`)
    } catch (error) {
      if (error instanceof TerminalError) throw error
      throw new TerminalError(
        `failed to extract tar file ${JSON.stringify(cfg.inPath)}: ${fsReason(error)}`,
        {
          cause: error,
        },
      )
    } finally {
      fs.rmSync(temp, { recursive: true, force: true })
    }
    return { status: 'Succeeded' }
  },
}

function buildMatcher(ignore: string | undefined): IgnoreMatcher {
  const patterns = parseIgnoreRules(ignore ?? '')
  return ignoreMatcher(patterns.length > 0 ? patterns : [parseIgnorePattern('.git')])
}

/** Kargo's `validRelPath`: not empty, no `\`, not absolute, no `../`, not starting with `./`. */
export function isSafeRelativePath(p: string): boolean {
  return p !== '' && !p.includes('\\') && !p.startsWith('/') && !p.includes('../') && !p.startsWith('./')
}

interface ExtractOptions {
  file: string
  /** Real path of the (empty) directory to extract into. */
  root: string
  strip: number
  ignored: IgnoreMatcher
  log: (line: string) => void
}

async function extract(opts: ExtractOptions): Promise<number> {
  const { root } = opts
  const writes: Array<Promise<void>> = []
  let total = 0
  let count = 0
  let abort: Error | undefined
  const skip = (name: string, why: string): void => opts.log(`skipping ${JSON.stringify(name)}: ${why}`)

  const onEntry = (entry: ReadEntry): void => {
    const consume = (): void => {
      entry.resume()
    }
    if (abort) return consume()
    const type = entry.type
    if (type !== 'File' && type !== 'OldFile' && type !== 'Directory' && type !== 'SymbolicLink')
      return consume()

    let name = entry.path
    if (opts.strip > 0) {
      const parts = name.split('/')
      if (parts.length <= opts.strip) return consume()
      name = parts.slice(opts.strip).join('/')
    }
    if (name === '' || name === '/') return consume()
    // Zip-slip: `..` as a whole segment (also `a/..`), besides Kargo's own checks.
    if (!isSafeRelativePath(name) || name.split('/').includes('..')) {
      skip(name, 'unsafe path')
      return consume()
    }
    const clean = name.replace(/\/+$/, '')
    const isDir = type === 'Directory'
    if (opts.ignored(clean.split('/'), isDir)) return consume()

    const target = path.join(root, clean)
    if (!isWithin(root, target)) {
      skip(name, 'escapes the target directory')
      return consume()
    }
    // Never write through a symlink: the parent must really be where it looks to be.
    const parent = path.dirname(target)
    const parentReal = resolveFollowingLinks(root, path.relative(root, parent))
    if (parentReal !== parent) {
      skip(name, 'its directory is a symlink')
      return consume()
    }

    try {
      fs.mkdirSync(parent, { recursive: true, mode: DIR_MODE })
      if (isDir) {
        const existing = lstatOrUndefined(target)
        if (existing?.isSymbolicLink()) fs.unlinkSync(target)
        fs.mkdirSync(target, { recursive: true, mode: DIR_MODE })
        count++
        return consume()
      }
      if (type === 'SymbolicLink') {
        const link = entry.linkpath ?? ''
        const resolved = isSafeRelativePath(link) ? resolveFollowingLinks(parent, link) : undefined
        if (resolved === undefined || !isWithin(root, resolved)) {
          skip(name, `unsafe symlink target ${JSON.stringify(link)}`)
          return consume()
        }
        if (!lstatOrUndefined(target)) {
          fs.symlinkSync(link, target)
          count++
        }
        return consume()
      }
      const size = entry.size ?? 0
      if (size > MAX_UNTAR_FILE_BYTES) {
        abort = new TerminalError(
          `extraction aborted: file ${name} exceeds size limit of ${MAX_UNTAR_FILE_BYTES} bytes`,
        )
        return consume()
      }
      if (total + size > MAX_UNTAR_TOTAL_BYTES) {
        abort = new TerminalError(
          `extraction aborted: total size would exceed limit of ${MAX_UNTAR_TOTAL_BYTES} bytes`,
        )
        return consume()
      }
      total += size
      const existing = lstatOrUndefined(target)
      if (existing?.isSymbolicLink()) fs.unlinkSync(target)
      const mode = (entry.mode ?? 0o600) & 0o777
      const mtime = entry.mtime
      count++
      writes.push(
        pipeline(entry, fs.createWriteStream(target, { mode })).then(() => {
          if (mtime) fs.utimesSync(target, mtime, mtime)
        }),
      )
    } catch (error) {
      abort = error instanceof Error ? error : new Error(String(error))
      consume()
    }
  }

  const nodeTar = await import('tar') // loaded on first use, as in tar.ts
  await nodeTar.list({ file: opts.file, noResume: true, onReadEntry: onEntry, strict: true })
  await Promise.all(writes)
  if (abort) throw abort
  // Links created early may have been redirected by later entries; drop any that now lead outside.
  sweepLinks(root, root, opts.log)
  return count
}

function sweepLinks(root: string, dir: string, log: (line: string) => void): void {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const abs = path.join(dir, entry.name)
    if (entry.isSymbolicLink()) {
      const resolved = resolveFollowingLinks(dir, fs.readlinkSync(abs))
      if (resolved === undefined || !isWithin(root, resolved)) {
        log(
          `removing ${JSON.stringify(path.relative(root, abs))}: its target leads outside the target directory`,
        )
        fs.unlinkSync(abs)
      }
    } else if (entry.isDirectory()) {
      sweepLinks(root, abs, log)
    }
  }
}
