import fs from 'node:fs'
import git from 'isomorphic-git'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { cleanupMessage, openRepo, readHead, type LocalRepo } from '../git/repo.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `git-tag`: creates an annotated tag on HEAD of a working tree, as Kargo's `git tag -a <tag> -m <message>` does: the
 * tagger is the repository's user (set by git-clone from `author`, else Kargo's default), the message is cleaned up
 * as git does (comment lines and surplus blank lines dropped). The tag time is the Promotion's start, so a step
 * replayed after a crash writes the same tag object. An existing tag is an error unless `force`, except that the
 * same tag (same commit, same message) is accepted as already done. The tag stays local; `git-push` with `tag`
 * publishes it. Output: `{ commit, tag }` (Kargo outputs `commit`).
 */

/** Mirrors `git-tag-config.json` (which allows, and so ignores, unknown fields). */
export const GitTagConfigSchema = z.object({
  path: z.string().min(1),
  tag: z.string().min(1),
  message: z.string().min(1),
  force: z.boolean().optional(),
})
export type GitTagConfig = z.infer<typeof GitTagConfigSchema>

/** The `git-tag` step. Output: `{ commit, tag }`. */
export const gitTag: Step<GitTagConfig> = {
  kind: 'git-tag',
  config: GitTagConfigSchema,
  requires: ['git'],
  run: runGitTag,
}

// git check-ref-format's rules for one ref name, plus `git tag`'s refusal of a leading dash.
const BAD_REF = /(^|[/.])([/.]|$)|^@$|@\{|[\x00-\x20\x7f~^:?*[\\]|\.lock(\/|$)|\.$|^-/

/** True when git accepts `name` as a tag name. */
export function isValidTagName(name: string): boolean {
  return !BAD_REF.test(name) && !name.endsWith('/')
}

async function runGitTag(ctx: StepContext, cfg: GitTagConfig): Promise<StepResult> {
  if (!isValidTagName(cfg.tag)) throw new TerminalError(`"${cfg.tag}" is not a valid tag name`)
  const dir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
  const repo = await openRepo(dir, cfg.path, ctx.workDir)
  const head = await readHead(repo.dir)
  const message = cleanupTagMessage(cfg.message)
  if (message === '') throw new TerminalError('the tag message is empty once cleaned up')
  const ref = `refs/tags/${cfg.tag}`

  const existing = await git.resolveRef({ fs, dir: repo.dir, ref }).catch(() => undefined)
  if (existing !== undefined) {
    const current = readTagObject(repo, existing)
    if (current?.object === head.oid && current.message === message) {
      ctx.log(`tag ${cfg.tag} already points at ${head.oid.slice(0, 7)}`)
      return succeeded(head.oid, cfg.tag)
    }
    if (!cfg.force) throw new TerminalError(`tag "${cfg.tag}" already exists in ${cfg.path}`)
  }

  const when = Math.floor((ctx.startedAt ?? new Date()).getTime() / 1000)
  const body = [
    `object ${head.oid}`,
    'type commit',
    `tag ${cfg.tag}`,
    `tagger ${repo.user.name} <${repo.user.email}> ${when} +0000`,
    '',
    message,
  ].join('\n')
  const oid = repo.store.write('tag', Buffer.from(body, 'utf8'))
  await git.writeRef({ fs, dir: repo.dir, ref, value: oid, force: true })
  ctx.log(`tagged ${head.oid.slice(0, 7)} as ${cfg.tag}`)
  return succeeded(head.oid, cfg.tag)
}

function succeeded(commit: string, tag: string): StepResult {
  return { status: 'Succeeded', output: { commit, tag } }
}

/** `git tag -m`'s default `strip` cleanup: comment lines go, then whitespace is tidied as for commits. */
export function cleanupTagMessage(message: string): string {
  const kept = message
    .replace(/\r\n/g, '\n')
    .split('\n')
    .filter((line) => !line.startsWith('#'))
  return cleanupMessage(kept.join('\n'))
}

/** The target and message of an annotated tag object; undefined for a lightweight tag. */
function readTagObject(repo: LocalRepo, oid: string): { object: string; message: string } | undefined {
  try {
    const object = repo.store.read(oid)
    if (object.type !== 'tag') return undefined
    const text = object.data.toString('utf8')
    const split = text.indexOf('\n\n')
    const target = /^object ([0-9a-f]{40})$/m.exec(text.slice(0, split < 0 ? text.length : split))?.[1]
    return target ? { object: target, message: split < 0 ? '' : text.slice(split + 2) } : undefined
  } catch {
    return undefined
  }
}
