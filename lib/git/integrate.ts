import fs from 'node:fs'
import git from 'isomorphic-git'
import { TerminalError } from '../errors.js'
import { merge3 } from './merge3.js'
import type { FileEntry, FlatTree } from './objects.js'
import { shallowSet, writeCommit, type LocalRepo } from './repo.js'

/*
 * `git pull --rebase` for a shallow clone: the commits made locally since the clone (or the last fetch) are replayed,
 * oldest first, on top of the remote branch's head. A replayed commit applies its own file changes (parent → commit)
 * to the remote tree: a file the remote left alone takes our version, a file both sides changed is merged line by
 * line, and a commit whose changes the remote already has is dropped, as git drops an already-applied patch.
 */

export type IntegrationKind = 'up-to-date' | 'fast-forward' | 'rebased' | 'already-applied'

export interface Integration {
  kind: IntegrationKind
  /** The commit to push (and the new local HEAD). */
  head: string
}

/** The local commits to replay: first-parent ancestors of `head` down to (excluding) the first known remote commit. */
export function localCommits(
  repo: LocalRepo,
  head: string,
  known: ReadonlySet<string>,
  shallow: ReadonlySet<string>,
): string[] {
  const commits: string[] = []
  let current: string | undefined = head
  while (current && !known.has(current) && commits.length < 10_000) {
    commits.push(current)
    if (shallow.has(current)) break
    const parents: string[] = repo.store.readCommit(current).parents
    current = parents[0]
    if (current && !repo.store.has(current)) break
  }
  return commits.reverse()
}

/** Tips of all remote-tracking refs (`refs/remotes/origin/*`). */
export async function remoteTips(repo: LocalRepo): Promise<Set<string>> {
  const tips = new Set<string>()
  const branches = await git.listBranches({ fs, dir: repo.dir, remote: 'origin' })
  for (const branch of branches) {
    try {
      tips.add(await git.resolveRef({ fs, dir: repo.dir, ref: `refs/remotes/origin/${branch}` }))
    } catch {
      // a dangling symbolic ref (origin/HEAD); ignore it
    }
  }
  return tips
}

export interface IntegrateInput {
  repo: LocalRepo
  /** Local HEAD commit. */
  head: string
  /** The remote branch's head (already fetched). */
  remote: string
  /** Remote commits known before fetching `remote` (the base of the local work). */
  known: ReadonlySet<string>
  /**
   * Fetches more history of the remote branch. Called once when replaying conflicts, to learn whether the remote
   * already contains our commits (a push that succeeded before a crash, followed by someone else's push).
   */
  deepen?: () => Promise<void>
}

/** Replays the local commits on top of `remote` (see the module comment). A conflict is a TerminalError. */
export async function integrate(input: IntegrateInput): Promise<Integration> {
  const { repo, head, remote } = input
  if (head === remote) return { kind: 'up-to-date', head }
  if (isAncestor(repo, remote, head)) return { kind: 'fast-forward', head }
  const known = new Set(input.known)
  known.add(remote)
  const local = localCommits(repo, head, known, shallowSet(repo))
  // Nothing of ours to replay (HEAD is a commit the remote already had): take the remote's head.
  if (local.length === 0) return { kind: 'fast-forward', head: remote }
  if (isAncestor(repo, head, remote)) return { kind: 'fast-forward', head: remote }
  try {
    return await replay(repo, local, remote)
  } catch (error) {
    if (!(error instanceof TerminalError) || !input.deepen) throw error
    await input.deepen()
    repo.store.refresh()
    if (isAncestor(repo, head, remote)) return { kind: 'fast-forward', head: remote }
    throw error
  }
}

/** True when `ancestor` is reachable from `descendant` through history present locally. */
export function isAncestor(repo: LocalRepo, ancestor: string, descendant: string): boolean {
  const shallow = shallowSet(repo)
  const queue = [descendant]
  const seen = new Set(queue)
  while (queue.length > 0 && seen.size < 20_000) {
    const oid = queue.shift() ?? ''
    if (oid === ancestor) return true
    if (shallow.has(oid) || !repo.store.has(oid)) continue
    for (const parent of repo.store.readCommit(oid).parents) {
      if (!seen.has(parent)) {
        seen.add(parent)
        queue.push(parent)
      }
    }
  }
  return false
}

async function replay(repo: LocalRepo, local: string[], remote: string): Promise<Integration> {
  let onto = remote
  let ontoTree = repo.store.flatten(repo.store.readCommit(remote).tree)
  let replayed = 0
  for (const oid of local) {
    const commit = repo.store.readCommit(oid)
    const parent = commit.parents[0]
    const before: FlatTree =
      parent && repo.store.has(parent) ? repo.store.flatten(repo.store.readCommit(parent).tree) : new Map()
    const after = repo.store.flatten(commit.tree)
    const next = applyChanges(repo, before, after, ontoTree)
    if (next === undefined) continue
    const author = parseSignature(commit.author)
    onto = await writeCommit(repo, {
      tree: repo.store.writeFlat(next),
      parents: [onto],
      message: commit.message,
      author: { name: author.name, email: author.email },
      committer: repo.user,
      authorTimestamp: author.timestamp,
      authorTimezoneOffset: author.timezoneOffset,
    })
    ontoTree = next
    replayed++
  }
  return replayed === 0 ? { kind: 'already-applied', head: remote } : { kind: 'rebased', head: onto }
}

/** Applies the change `before → after` to `onto`; `undefined` when `onto` already has it. */
function applyChanges(
  repo: LocalRepo,
  before: FlatTree,
  after: FlatTree,
  onto: FlatTree,
): FlatTree | undefined {
  const result: FlatTree = new Map(onto)
  const conflicts: string[] = []
  let changed = false
  const paths = new Set([...before.keys(), ...after.keys()])
  for (const file of paths) {
    const base = before.get(file)
    const ours = after.get(file)
    if (sameEntry(base, ours)) continue
    const theirs = onto.get(file)
    if (sameEntry(theirs, ours)) continue
    if (sameEntry(theirs, base)) {
      if (ours) result.set(file, ours)
      else result.delete(file)
      changed = true
      continue
    }
    const merged = base && ours && theirs ? mergeFile(repo, base, ours, theirs) : undefined
    if (!merged) {
      conflicts.push(file)
      continue
    }
    if (!sameEntry(merged, theirs)) {
      result.set(file, merged)
      changed = true
    }
  }
  if (conflicts.length > 0) {
    throw new TerminalError(
      `merge conflict while rebasing onto the remote branch: ${conflicts.slice(0, 10).join(', ')}` +
        (conflicts.length > 10 ? ` and ${conflicts.length - 10} more` : ''),
      { data: { conflicts } },
    )
  }
  return changed ? result : undefined
}

function mergeFile(
  repo: LocalRepo,
  base: FileEntry,
  ours: FileEntry,
  theirs: FileEntry,
): FileEntry | undefined {
  const regular = (e: FileEntry): boolean => e.mode === '100644' || e.mode === '100755'
  if (!regular(base) || !regular(ours) || !regular(theirs)) return undefined
  const text = (e: FileEntry): string => repo.store.readAs(e.oid, 'blob').toString('utf8')
  const merged = merge3(text(base), text(ours), text(theirs))
  if (merged === undefined) return undefined
  const mode = ours.mode !== base.mode ? ours.mode : theirs.mode
  return { oid: repo.store.write('blob', Buffer.from(merged, 'utf8')), mode }
}

function sameEntry(a: FileEntry | undefined, b: FileEntry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  return a.oid === b.oid && a.mode === b.mode
}

/** Parses `Name <email> 1700000000 +0100` (isomorphic-git's timezoneOffset is minutes west of UTC). */
export function parseSignature(line: string): {
  name: string
  email: string
  timestamp: number
  timezoneOffset: number
} {
  const match = /^(.*) <([^>]*)> (\d+) ([+-])(\d\d)(\d\d)$/.exec(line)
  if (!match) return { name: line, email: '', timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 }
  const minutes = Number(match[5]) * 60 + Number(match[6])
  return {
    name: match[1] ?? '',
    email: match[2] ?? '',
    timestamp: Number(match[3]),
    timezoneOffset: match[4] === '-' ? minutes : -minutes,
  }
}
