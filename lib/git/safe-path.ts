import fs from 'node:fs'
import path from 'node:path'
import { TerminalError } from '../errors.js'
import { resolveInWorkspace } from '../steps/workspace.js'

/**
 * `resolveInWorkspace`, plus the check it cannot make lexically: following symlinks (a cloned repository may contain
 * them), the path must still lead into the workspace. Kargo gets the same guarantee from securejoin.
 */
export function resolveInWorkspaceReal(workDir: string, relativePath: string, field = 'path'): string {
  const resolved = resolveInWorkspace(workDir, relativePath, field)
  if (!fs.existsSync(workDir)) return resolved
  const root = fs.realpathSync(path.resolve(workDir))
  let existing = resolved
  while (!fs.existsSync(existing)) {
    const parent = path.dirname(existing)
    if (parent === existing) break
    existing = parent
  }
  const real = fs.realpathSync(existing)
  if (real !== root && !real.startsWith(root + path.sep)) {
    throw new TerminalError(
      `${field} "${relativePath}" leads outside the promotion workspace through a symlink`,
      {
        data: { field },
      },
    )
  }
  return resolved
}
