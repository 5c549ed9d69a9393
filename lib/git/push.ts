import fs from 'node:fs'
import git from 'isomorphic-git'
import { UpstreamError } from '../errors.js'
import { integrate, remoteTips, type IntegrationKind } from './integrate.js'
import {
  commitTree,
  fetchRemote,
  moveHead,
  pushRef,
  type HeadState,
  type LocalRepo,
  type Remote,
} from './repo.js'
import { checkoutTree } from './worktree.js'

/* What `git-push` and `github-push` share: integrating the remote branch, pushing a commit, and Kargo's backoff. */

/** Kargo's push backoff: 1 s, growing by 1.5 per attempt, with up to +50 % jitter, capped at 30 s. */
export function kargoBackoff(attempt: number): number {
  const base = Math.min(1000 * 1.5 ** (attempt - 1), 30_000)
  return Math.min(base * (1 + Math.random() * 0.5), 30_000)
}

export interface IntegrationResult {
  head: HeadState
  kind: IntegrationKind | 'new-branch'
  /** The remote branch already points at `head`. */
  remoteHasIt: boolean
}

/**
 * Fetches the target branch and replays local work onto it (Kargo's default `AlwaysRebase`), moving the local branch
 * and working tree along. A branch the remote does not have yet is a `new-branch`.
 */
export async function integrateRemote(
  repo: LocalRepo,
  remote: Remote,
  head: HeadState,
  target: string,
): Promise<IntegrationResult> {
  const known = await remoteTips(repo)
  const fetched = await fetchRemote(repo, remote, { ref: `refs/heads/${target}`, depth: 1 })
  repo.store.refresh()
  if (fetched.oid === undefined) return { head, kind: 'new-branch', remoteHasIt: false }
  const remoteHead = repo.store.peelToCommit(fetched.oid)
  const result = await integrate({
    repo,
    head: head.oid,
    remote: remoteHead,
    known,
    deepen: async () => {
      await fetchRemote(repo, remote, { ref: `refs/heads/${target}`, depth: 100, relative: true })
    },
  })
  return {
    head: await moveTo(repo, head, result.head),
    kind: result.kind,
    remoteHasIt: result.head === remoteHead,
  }
}

/** Points the local branch (or detached HEAD) at `oid` and makes the working tree hold its files. */
export async function moveTo(repo: LocalRepo, head: HeadState, oid: string): Promise<HeadState> {
  if (oid === head.oid) return head
  checkoutTree(repo.dir, repo.store, commitTree(repo, oid), {
    current: commitTree(repo, head.oid),
    sparse: repo.sparse,
  })
  await moveHead(repo, head, oid)
  return { branch: head.branch, oid }
}

const PUSH_REF = 'refs/tugboat/push'

/** Pushes `oid` to `remoteRef` through a temporary local ref, so no local branch has to point at it. */
export async function pushCommit(
  repo: LocalRepo,
  remote: Remote,
  oid: string,
  remoteRef: string,
  force: boolean,
): Promise<{ ok: boolean; rejected?: string }> {
  await git.writeRef({ fs, dir: repo.dir, ref: PUSH_REF, value: oid, force: true })
  try {
    return await pushRef(repo.dir, remote, PUSH_REF, remoteRef, force)
  } finally {
    await git.deleteRef({ fs, dir: repo.dir, ref: PUSH_REF }).catch(() => undefined)
    if (!remoteRef.startsWith('refs/heads/')) {
      // isomorphic-git records any pushed ref as `refs/remotes/origin/<ref>`: for a hidden ref that would be a
      // "remote branch" holding our unpublished HEAD, and the next integration would think the remote has it.
      await git
        .deleteRef({ fs, dir: repo.dir, ref: `refs/remotes/origin/${remoteRef}` })
        .catch(() => undefined)
    }
  }
}

/** Waits `ms`, or rejects with an UpstreamError naming `what` as soon as `signal` aborts. */
export function waitBeforeRetry(ms: number, signal: AbortSignal | undefined, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const cancelled = () => new UpstreamError(`${what} was cancelled`)
    if (signal?.aborted) {
      reject(cancelled())
      return
    }
    const timer = setTimeout(resolve, ms)
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer)
        reject(cancelled())
      },
      { once: true },
    )
  })
}
