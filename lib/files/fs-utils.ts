import fs from 'node:fs'
import path from 'node:path'
import { TerminalError } from '../errors.js'

/** The `code` of a Node.js system error (`ENOENT`, `EISDIR`…), if any. */
export function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code
  return undefined
}

/** `fs.lstatSync`, or undefined when nothing is there. */
export function lstatOrUndefined(p: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(p)
  } catch (error) {
    if (errnoCode(error) === 'ENOENT' || errnoCode(error) === 'ENOTDIR') return undefined
    throw error
  }
}

/** A human reason for a file-system error, without the absolute path Node puts into its messages. */
export function fsReason(error: unknown): string {
  switch (errnoCode(error)) {
    case 'ENOENT':
      return 'no such file or directory'
    case 'EISDIR':
      return 'is a directory'
    case 'ENOTDIR':
      return 'not a directory'
    case 'EACCES':
    case 'EPERM':
      return 'permission denied'
    case 'EEXIST':
      return 'file exists'
    case 'ENOTEMPTY':
      return 'directory not empty'
    default:
      return error instanceof Error ? error.message.replace(/'\/[^']*'/g, "'…'") : String(error)
  }
}

/** Reads a UTF-8 file of the workspace; a missing or unreadable file is a TerminalError naming `label`. */
export function readTextFile(abs: string, label: string, what = 'file'): string {
  try {
    return fs.readFileSync(abs, 'utf8')
  } catch (error) {
    throw new TerminalError(`error reading ${what} ${JSON.stringify(label)}: ${fsReason(error)}`, {
      cause: error,
    })
  }
}

/** True when `child` is `root` or lies beneath it (both absolute and normalised). */
export function isWithin(root: string, child: string): boolean {
  return child === root || child.startsWith(root.endsWith(path.sep) ? root : root + path.sep)
}

const MAX_SYMLINK_HOPS = 40

/**
 * Where `relative` (relative to the real directory `from`) really leads, following symlinks component by component
 * the way the kernel does (so `link/..` is the parent of the link's target, not `from`). Components that do not
 * exist are appended as they are. Returns undefined for a symlink loop.
 */
export function resolveFollowingLinks(from: string, relative: string): string | undefined {
  let current = from
  const pending = relative.split('/').filter((c) => c !== '' && c !== '.')
  let hops = 0
  let missing = false
  while (pending.length > 0) {
    const part = pending.shift() ?? ''
    if (part === '..') {
      current = path.dirname(current)
      continue
    }
    const next = path.join(current, part)
    if (missing) {
      current = next
      continue
    }
    const stat = lstatOrUndefined(next)
    if (!stat) {
      missing = true
      current = next
      continue
    }
    if (stat.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) return undefined
      const target = fs.readlinkSync(next)
      if (path.isAbsolute(target)) current = path.parse(target).root
      pending.unshift(...target.split('/').filter((c) => c !== '' && c !== '.'))
      continue
    }
    current = next
  }
  return current
}
