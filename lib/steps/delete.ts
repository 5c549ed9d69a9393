import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { TerminalError, messageOf } from '../errors.js'
import { compilePathPattern } from '../discovery/path-filter.js'
import { errnoCode, fsReason, isWithin, lstatOrUndefined } from '../files/fs-utils.js'
import { resolveInWorkspace } from './workspace.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `delete-config.json`: exactly one of `path` and `paths`. */
export const DeleteConfigSchema = z
  .strictObject({
    path: z.string().min(1).optional(),
    paths: z.array(z.string().min(1)).min(1).optional(),
    pathsAreGlobs: z.boolean().default(false),
    strict: z.boolean().default(false),
  })
  .refine((c) => (c.path === undefined) !== (c.paths === undefined), {
    message: 'exactly one of path and paths is required',
  })
export type DeleteConfig = z.infer<typeof DeleteConfigSchema>

/**
 * The `delete` step: removes files and directories (recursively). With `pathsAreGlobs`, each entry is a doublestar
 * glob (`**` across directories, `{a,b}`, dotfiles matched by `*`) relative to the workspace. A path that does not
 * exist, or a glob that matches nothing, is skipped, or with `strict` is an error. A symlink is removed as a link,
 * never followed; a path leading outside the workspace (lexically or through a symlinked parent) is an error, and so
 * is the workspace itself.
 */
export const deleteFiles: Step<DeleteConfig> = {
  kind: 'delete',
  config: DeleteConfigSchema,
  async run(ctx: StepContext, cfg: DeleteConfig): Promise<StepResult> {
    const entries = cfg.path !== undefined ? [cfg.path, ...(cfg.paths ?? [])] : (cfg.paths ?? [])
    const root = fs.realpathSync(ctx.workDir)
    const targets = cfg.pathsAreGlobs
      ? resolveGlobs(root, entries, cfg.strict)
      : resolveLiterals(root, entries, cfg.strict)
    for (const target of targets) {
      try {
        fs.rmSync(target, { recursive: true, force: false })
      } catch (error) {
        // An earlier entry (a parent directory) may have removed it already.
        if (errnoCode(error) === 'ENOENT') continue
        throw new Error(`failed to delete: ${fsReason(error)}`, { cause: error })
      }
    }
    ctx.log(`deleted ${targets.length} path(s)`)
    return { status: 'Succeeded' }
  },
}

/** Kargo's `secureResolve`: the path to remove (the leaf not followed), or undefined when nothing is there. */
function secureResolve(root: string, relative: string): string | undefined {
  const lexical = resolveInWorkspace(root, relative)
  if (lexical === root)
    throw new TerminalError(`path ${JSON.stringify(relative)} is the promotion workspace itself`)
  let parent: string
  try {
    parent = fs.realpathSync(path.dirname(lexical))
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined
    throw error
  }
  if (!isWithin(root, parent)) {
    throw new TerminalError(
      `could not resolve path ${JSON.stringify(relative)}: path attempts to traverse outside the working directory`,
    )
  }
  const target = path.join(parent, path.basename(lexical))
  return lstatOrUndefined(target) ? target : undefined
}

function resolveLiterals(root: string, entries: string[], strict: boolean): string[] {
  const out = new Set<string>()
  for (const entry of entries) {
    const target = secureResolve(root, entry)
    if (target === undefined) {
      if (strict) throw new TerminalError(`path ${JSON.stringify(entry)} does not exist`)
      continue
    }
    out.add(target)
  }
  return [...out]
}

function resolveGlobs(root: string, patterns: string[], strict: boolean): string[] {
  const out = new Set<string>()
  for (const pattern of patterns) {
    let glob = pattern.startsWith('./') ? pattern.slice(2) : pattern
    while (glob.length > 1 && glob.endsWith('/')) glob = glob.slice(0, -1)
    if (glob.startsWith('/') || glob.split('/').includes('..')) {
      throw new TerminalError(
        `invalid glob pattern ${JSON.stringify(pattern)}: it must stay inside the workspace`,
      )
    }
    let matches: (p: string) => boolean
    try {
      matches = compilePathPattern(`glob:${glob}`)
    } catch (error) {
      throw new TerminalError(`invalid glob pattern ${JSON.stringify(pattern)}: ${messageOf(error)}`, {
        cause: error,
      })
    }
    const found = walkMatches(root, matches)
    if (found.length === 0) {
      if (strict) throw new TerminalError(`no paths matched pattern ${JSON.stringify(pattern)}`)
      continue
    }
    for (const rel of found) {
      const target = secureResolve(root, rel)
      if (target !== undefined) out.add(target)
    }
  }
  return [...out]
}

/** Workspace-relative paths (with `/`) that match, in lexical order; a matched directory's contents go with it. */
function walkMatches(root: string, matches: (p: string) => boolean): string[] {
  const found: string[] = []
  const walk = (dir: string, prefix: string): void => {
    const entries = fs
      .readdirSync(dir, { withFileTypes: true })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const entry of entries) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name
      if (matches(rel)) {
        found.push(rel)
        continue
      }
      if (entry.isDirectory()) walk(path.join(dir, entry.name), rel)
    }
  }
  walk(root, '')
  return found
}
