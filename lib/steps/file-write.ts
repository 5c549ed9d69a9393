import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { fsReason, resolveFollowingLinks } from '../files/fs-utils.js'
import { resolveInWorkspace } from './workspace.js'
import type { Step, StepContext, StepResult } from './types.js'

/** Mirrors `file-write-config.json`. */
export const FileWriteConfigSchema = z.strictObject({
  path: z.string().min(1),
  contents: z.string(),
  permissions: z
    .string()
    .regex(/^0[0-7]{3}$/)
    .optional(),
  overwrite: z.boolean().default(false),
})
export type FileWriteConfig = z.infer<typeof FileWriteConfigSchema>

const DEFAULT_PERMISSIONS = 0o600

/**
 * The `file-write` step: writes `contents` to `path` (parents created with 0700), with `permissions` (default 0600;
 * never executable or world-writable). An existing file is an error unless `overwrite`. As in Kargo, the path may not
 * go through a symlink, nor into the workspace's top-level `.git`.
 */
export const fileWrite: Step<FileWriteConfig> = {
  kind: 'file-write',
  config: FileWriteConfigSchema,
  async run(ctx: StepContext, cfg: FileWriteConfig): Promise<StepResult> {
    const abs = resolveInWorkspace(ctx.workDir, cfg.path)
    const clean = path.relative(path.resolve(ctx.workDir), abs)
    if (clean === '.git' || clean.startsWith(`.git${path.sep}`)) {
      throw new TerminalError(`writing to the .git directory is forbidden: ${JSON.stringify(cfg.path)}`)
    }
    if (clean === '')
      throw new TerminalError(`path ${JSON.stringify(cfg.path)} is the promotion workspace itself`)
    const mode = parsePermissions(cfg.permissions)

    const root = fs.realpathSync(ctx.workDir)
    const real = resolveFollowingLinks(root, clean)
    const realRel = real === undefined ? undefined : path.relative(root, real)
    if (realRel !== clean) {
      throw new TerminalError(
        `path ${JSON.stringify(cfg.path)} resolves to a different path ${JSON.stringify(realRel ?? '?')} (symlinks are forbidden)`,
      )
    }
    if (fs.existsSync(abs) && !cfg.overwrite) {
      throw new TerminalError(
        `file ${JSON.stringify(cfg.path)} already exists; set overwrite to true to replace it`,
      )
    }
    try {
      fs.mkdirSync(path.dirname(abs), { recursive: true, mode: 0o700 })
      fs.writeFileSync(abs, cfg.contents, { mode })
      fs.chmodSync(abs, mode)
    } catch (error) {
      throw new Error(`error writing file ${JSON.stringify(cfg.path)}: ${fsReason(error)}`, { cause: error })
    }
    ctx.log(`wrote ${Buffer.byteLength(cfg.contents)} bytes to ${cfg.path}`)
    return { status: 'Succeeded' }
  },
}

/** Kargo's permission rules: an octal mode, without special, executable or world-writable bits. */
function parsePermissions(permissions: string | undefined): number {
  if (permissions === undefined || permissions === '') return DEFAULT_PERMISSIONS
  const mode = parseInt(permissions, 8)
  if (Number.isNaN(mode))
    throw new TerminalError(`invalid permissions ${JSON.stringify(permissions)}: must be an octal file mode`)
  if ((mode & 0o777) !== mode) {
    throw new TerminalError(`permissions ${JSON.stringify(permissions)} must not include special mode bits`)
  }
  if (mode & 0o111)
    throw new TerminalError(`permissions ${JSON.stringify(permissions)} must not include executable bits`)
  if (mode & 0o002)
    throw new TerminalError(`permissions ${JSON.stringify(permissions)} must not be world-writable`)
  return mode
}
