import path from 'node:path'
import { TerminalError } from '../errors.js'

/**
 * Resolves a step's path inside the Promotion workspace. A path that is absolute or escapes
 * the workspace with `..` is a step error, never silently clamped.
 */
export function resolveInWorkspace(workDir: string, relativePath: string, field = 'path'): string {
  if (path.isAbsolute(relativePath)) {
    throw new TerminalError(`${field} "${relativePath}" must be relative to the promotion workspace`, {
      data: { field },
    })
  }
  const root = path.resolve(workDir)
  const resolved = path.resolve(root, relativePath)
  if (resolved !== root && !resolved.startsWith(root + path.sep)) {
    throw new TerminalError(`${field} "${relativePath}" escapes the promotion workspace`, { data: { field } })
  }
  return resolved
}
