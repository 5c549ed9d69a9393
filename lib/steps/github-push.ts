import { z } from 'zod'
import { TerminalError, UpstreamError, messageOf } from '../errors.js'
import { gitAuthFrom, lookupGitAuth } from '../git/auth.js'
import { commitURL } from '../git/commit-url.js'
import { localCommits, parseSignature } from '../git/integrate.js'
import { integrateRemote, kargoBackoff, moveTo, pushCommit, waitBeforeRetry } from '../git/push.js'
import { redact, redactURL } from '../git/redact.js'
import {
  fetchRemote,
  openRepo,
  readHead,
  remoteFor,
  shallowSet,
  type HeadState,
  type LocalRepo,
  type Remote,
} from '../git/repo.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'
import {
  githubGitData,
  type CompareCommit,
  type GitHubGitData,
  type GitHubSignature,
} from '../gitprovider/github-git.js'
import type { ProviderOverrides } from '../gitprovider/provider.js'
import { parseRepoURL } from '../gitprovider/repo-url.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `github-push`: pushes HEAD to a GitHub branch through GitHub's API, so the commits on the branch are made (and
 * signed) by GitHub, as Kargo's github-push does. Per attempt: integrate the remote branch as `git-push` does (not
 * with `force`), force-push HEAD over git to the hidden ref `refs/kargo/staging/<promotion>` (GitHub then holds our
 * trees), compare the target branch with HEAD, re-create each commit of the comparison with `POST /git/commits`,
 * move the branch with the API, and delete the staging ref. The local branch and working tree are then reset to the
 * branch's new head (the re-created commits have new SHAs). A branch that moved meanwhile is retried with Kargo's
 * backoff, up to `maxAttempts`.
 *
 * Attribution: Tugboat holds no signing key. Every commit it re-creates is one the workspace made in this Promotion
 * (its own commits, or its rebase of them), so by default it is sent WITHOUT author and committer: GitHub makes the
 * token's user the author, itself the committer, and signs it (Verified). When the original author is not the
 * identity that committed it (git-commit's `author`), a `Co-authored-by: Name <email>` trailer keeps the credit.
 * `TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS=true` sends the original author and committer instead (full provenance,
 * unverified). More than `TUGBOAT_GITHUB_PUSH_MAX_REVISIONS` (default 10) commits to re-create is a TerminalError.
 *
 * Idempotent: a branch whose head already holds HEAD's tree is left alone (a push that succeeded before a crash).
 * Output: `{ commit, branch, commitURL }`.
 */

/** Mirrors `github-push-config.json`. */
export const GitHubPushConfigSchema = z
  .strictObject({
    path: z.string().min(1),
    targetBranch: z.string().nullish(),
    generateTargetBranch: z.boolean().nullish(),
    force: z.boolean().nullish(),
    maxAttempts: z.number().int().min(1).max(2147483647).optional(),
    insecureSkipTLSVerify: z.boolean().nullish(),
  })
  .superRefine((c, ctx) => {
    if (c.generateTargetBranch && c.targetBranch) {
      ctx.addIssue({
        code: 'custom',
        path: ['targetBranch'],
        message: 'targetBranch and generateTargetBranch are mutually exclusive',
      })
    }
  })
  .transform((c) => ({
    path: c.path,
    targetBranch: c.targetBranch || undefined,
    generateTargetBranch: c.generateTargetBranch ?? false,
    force: c.force ?? false,
    maxAttempts: c.maxAttempts ?? 10,
    insecureSkipTLSVerify: c.insecureSkipTLSVerify ?? false,
  }))
export type GitHubPushConfig = z.infer<typeof GitHubPushConfigSchema>

const unset = (v: unknown) => (v === '' ? undefined : v)

/** The deployment settings of `github-push`, from the environment. */
export const GitHubPushEnvSchema = z.object({
  TUGBOAT_GITHUB_PUSH_MAX_REVISIONS: z.preprocess(unset, z.coerce.number().int().min(1).optional()),
  TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS: z.preprocess(
    (v) => (typeof v === 'string' ? unset(v.toLowerCase()) : v),
    z.enum(['true', 'false']).optional(),
  ),
})

export interface GitHubPushSettings {
  /** Most commits one push re-creates. */
  maxRevisions: number
  /** Send the original author and committer (unverified) instead of letting GitHub attribute and sign. */
  preserveAuthors: boolean
}

export const DEFAULT_MAX_REVISIONS = 10

/** Parses the settings; a TerminalError naming the variable when one is malformed. */
export function githubPushSettingsFromEnv(env: Record<string, string | undefined>): GitHubPushSettings {
  const parsed = GitHubPushEnvSchema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw new TerminalError(`${String(issue?.path[0] ?? 'environment')}: ${issue?.message ?? 'is invalid'}`)
  }
  return {
    maxRevisions: parsed.data.TUGBOAT_GITHUB_PUSH_MAX_REVISIONS ?? DEFAULT_MAX_REVISIONS,
    preserveAuthors: parsed.data.TUGBOAT_GITHUB_PUSH_PRESERVE_AUTHORS === 'true',
  }
}

export interface GitHubPushOptions extends ProviderOverrides {
  /** Delay before attempt `attempt + 1`. Default: Kargo's backoff. */
  retryDelayMs?: (attempt: number) => number
  /** Where the settings come from (default: process.env, read on each run). */
  env?: Record<string, string | undefined>
}

/** Builds the `github-push` step (tests point it at a fake API and shorten the backoff). */
export function createGitHubPush(opts: GitHubPushOptions = {}): Step<GitHubPushConfig> {
  return {
    kind: 'github-push',
    config: GitHubPushConfigSchema,
    requires: ['git', 'credentials'],
    defaultTimeoutMs: 5 * 60_000,
    run: (ctx, cfg) => runGitHubPush(ctx, cfg, opts),
  }
}

/** The `github-push` step. */
export const githubPush: Step<GitHubPushConfig> = createGitHubPush()

/** The branch moved under us: integrate again and retry. */
class Race extends Error {}

async function runGitHubPush(
  ctx: StepContext,
  cfg: GitHubPushConfig,
  opts: GitHubPushOptions,
): Promise<StepResult> {
  const settings = githubPushSettingsFromEnv(opts.env ?? process.env)
  const delay = opts.retryDelayMs ?? kargoBackoff
  const dir = resolveInWorkspaceReal(ctx.workDir, cfg.path)
  const repo = await openRepo(dir, cfg.path, ctx.workDir)
  if (!repo.url) throw new TerminalError(`${cfg.path} has no remote "origin"`)
  const creds = await ctx.credentials('git', repo.url)
  if (!creds?.password) throw new TerminalError(`no credentials found for ${redactURL(repo.url)}`)
  const insecure = cfg.insecureSkipTLSVerify || repo.insecureSkipTLSVerify
  const remote = remoteFor(repo.url, await lookupGitAuth(async () => creds, repo.url), insecure)
  const api = githubGitData(parseRepoURL(repo.url), {
    ...(opts.apiBaseURL ? { apiBaseURL: opts.apiBaseURL } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.requestTimeoutMs ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
    token: creds.password,
    insecureSkipTLSVerify: insecure,
    ...(ctx.signal ? { signal: ctx.signal } : {}),
  })
  const secrets = gitAuthFrom(creds).secrets

  let head = await readHead(repo.dir)
  let target = cfg.targetBranch
  let force = cfg.force
  if (cfg.generateTargetBranch) {
    target = `kargo/promotion/${ctx.promotion}`
    // The branch is unique to this Promotion: whatever it holds is from an earlier attempt of ours.
    force = true
  }
  if (target === undefined) {
    if (!head.branch) throw new TerminalError(`${cfg.path} is not on a branch; set targetBranch`)
    target = head.branch
  }
  const stagingRef = `refs/kargo/staging/${ctx.promotion}`
  let staged = false

  try {
    for (let attempt = 1; ; attempt++) {
      if (!force) head = (await integrateRemote(repo, remote, head, target)).head
      const pushed = await pushCommit(repo, remote, head.oid, stagingRef, true)
      if (!pushed.ok) {
        throw new TerminalError(
          `pushing to ${stagingRef} of ${redactURL(repo.url)} was refused: ${pushed.rejected ?? 'rejected'}`,
        )
      }
      staged = true
      try {
        const newHead = await publish({ ctx, repo, api, head, target, force, settings })
        head = await syncLocal(repo, remote, head, target, newHead)
        return succeeded(repo, head.oid, target)
      } catch (error) {
        if (!(error instanceof Race)) throw error
        if (attempt >= cfg.maxAttempts) {
          throw new UpstreamError(`pushing to ${target} failed after ${attempt} attempts: ${error.message}`, {
            data: { attempts: attempt },
          })
        }
        ctx.log(`${target} moved while pushing (attempt ${attempt}): ${error.message}; retrying`)
        await waitBeforeRetry(delay(attempt), ctx.signal, 'github-push')
      }
    }
  } finally {
    if (staged) {
      await api.deleteRef(stagingRef).catch((error: unknown) => {
        ctx.log(`could not delete ${stagingRef}: ${redact(messageOf(error), secrets)}`)
      })
    }
  }
}

interface PublishInput {
  ctx: StepContext
  repo: LocalRepo
  api: GitHubGitData
  head: HeadState
  target: string
  force: boolean
  settings: GitHubPushSettings
}

/** Re-creates HEAD's new commits on GitHub and moves (or creates) the target branch; returns its new head. */
async function publish(input: PublishInput): Promise<string> {
  const { ctx, repo, api, head, target, force, settings } = input
  const targetRef = `refs/heads/${target}`
  const targetHead = await api.branchHead(target)
  const localTree = repo.store.readCommit(head.oid).tree

  let base = targetHead
  if (base === undefined && head.branch !== undefined && head.branch !== target)
    base = await api.branchHead(head.branch)

  let commits: CompareCommit[]
  let onto: string | undefined
  if (base !== undefined) {
    const comparison = await api.compare(base, head.oid)
    // The branch already holds exactly our files: a push that succeeded before (perhaps before a crash).
    if (targetHead !== undefined && comparison.base_commit.commit.tree.sha === localTree) {
      ctx.log(`${target} already holds the tree of ${head.oid.slice(0, 7)}; nothing to push`)
      return targetHead
    }
    if ((comparison.status === 'behind' || comparison.status === 'diverged') && !force)
      throw new Race(`${target} is ${comparison.status} ${head.oid.slice(0, 7)}`)
    const count = Math.max(comparison.total_commits, comparison.commits.length)
    checkRevisions(count, settings, target)
    // GitHub lists at most 250 commits of a comparison.
    if (comparison.commits.length < count)
      throw new TerminalError(`GitHub listed ${comparison.commits.length} of the ${count} commits to push`)
    commits = comparison.commits
    onto = comparison.merge_base_commit.sha
  } else {
    // Neither the target nor the current branch exists on GitHub (an orphan branch made by git-clone `create`).
    const oids = localCommits(repo, head.oid, new Set(), shallowSet(repo))
    checkRevisions(oids.length, settings, target)
    commits = oids.map((oid) => localCommit(repo, oid))
  }

  const newHead = await replay(api, commits, onto, settings, repo)
  if (targetHead === undefined) {
    if ((await api.createRef(targetRef, newHead)) === 'exists')
      throw new Race(`${target} was created meanwhile`)
    ctx.log(`created ${target} at ${newHead.slice(0, 7)} (${commits.length} commit(s))`)
  } else if (targetHead !== newHead) {
    if ((await api.updateRef(targetRef, newHead, force)) === 'rejected')
      throw new Race(`moving ${target} is not a fast-forward`)
    ctx.log(`moved ${target} to ${newHead.slice(0, 7)} (${commits.length} commit(s))`)
  }
  return newHead
}

function checkRevisions(count: number, settings: GitHubPushSettings, target: string): void {
  if (count > settings.maxRevisions) {
    throw new TerminalError(
      `pushing to ${target} would re-create ${count} commits through the GitHub API, more than the ${settings.maxRevisions} ` +
        `allowed (TUGBOAT_GITHUB_PUSH_MAX_REVISIONS); push fewer commits or use git-push`,
      { data: { commits: count, maxRevisions: settings.maxRevisions } },
    )
  }
}

/**
 * Creates each commit again, oldest first: the first on top of `onto` (the merge base), each next one on the commit
 * made before it (every parent is mapped through the old → new SHAs, so merge commits keep their other parents).
 */
async function replay(
  api: GitHubGitData,
  commits: CompareCommit[],
  onto: string | undefined,
  settings: GitHubPushSettings,
  repo: LocalRepo,
): Promise<string> {
  const made = new Map<string, string>()
  let last = onto
  for (const [i, commit] of commits.entries()) {
    const parents = commit.parents.map((p, n) =>
      i === 0 && n === 0 && onto !== undefined ? onto : (made.get(p.sha) ?? p.sha),
    )
    const { author, committer } = commit.commit
    const created = await api.createCommit({
      tree: commit.commit.tree.sha,
      parents,
      ...(settings.preserveAuthors
        ? {
            message: commit.commit.message,
            ...(author ? { author: signature(author) } : {}),
            ...(committer ? { committer: signature(committer) } : {}),
          }
        : { message: withCoAuthor(commit.commit.message, author, committer ?? repo.user) }),
    })
    made.set(commit.sha, created.sha)
    last = created.sha
  }
  if (last === undefined) throw new TerminalError('nothing to push: HEAD has no commits')
  return last
}

function signature(s: GitHubSignature): GitHubSignature {
  return { name: s.name, email: s.email, ...(s.date ? { date: s.date } : {}) }
}

/** Adds `Co-authored-by: <author>` when the author is not the identity that made the commit (and it is not there). */
export function withCoAuthor(
  message: string,
  author: { name: string; email: string } | null | undefined,
  committer: { name: string; email: string },
): string {
  if (!author || !author.email) return message
  const same = author.email.toLowerCase() === committer.email.toLowerCase() && author.name === committer.name
  const trailer = `Co-authored-by: ${author.name} <${author.email}>`
  if (same || message.includes(trailer)) return message
  const body = message.replace(/\s+$/, '')
  const lastParagraph = body.split(/\n\s*\n/).pop() ?? ''
  const hasTrailers = body.includes('\n\n') && /^[\w-]+: .+$/m.test(lastParagraph)
  return `${body}${hasTrailers ? '\n' : '\n\n'}${trailer}\n`
}

/** A local commit in the shape the compare API lists commits. */
function localCommit(repo: LocalRepo, oid: string): CompareCommit {
  const c = repo.store.readCommit(oid)
  const sig = (line: string): GitHubSignature => {
    const s = parseSignature(line)
    return { name: s.name, email: s.email, date: isoDate(s.timestamp, s.timezoneOffset) }
  }
  return {
    sha: oid,
    commit: { author: sig(c.author), committer: sig(c.committer), message: c.message, tree: { sha: c.tree } },
    parents: c.parents.map((sha) => ({ sha })),
  }
}

/** ISO 8601 with the commit's own offset (`timezoneOffset` is minutes west of UTC, as isomorphic-git has it). */
function isoDate(seconds: number, timezoneOffset: number): string {
  const east = -timezoneOffset
  const local = new Date((seconds + east * 60) * 1000).toISOString().replace(/\.\d{3}Z$/, '')
  const sign = east < 0 ? '-' : '+'
  const abs = Math.abs(east)
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`
}

/** Makes the local branch and working tree hold the target branch's new head (fetched when we lack it). */
async function syncLocal(
  repo: LocalRepo,
  remote: Remote,
  head: HeadState,
  target: string,
  newHead: string,
): Promise<HeadState> {
  if (newHead === head.oid) return head
  await fetchRemote(repo, remote, { ref: `refs/heads/${target}`, depth: 1 })
  repo.store.refresh()
  if (!repo.store.has(newHead)) {
    // The branch moved again since we set it: fetch our commit by its SHA.
    await fetchRemote(repo, remote, { ref: newHead, depth: 1 })
    repo.store.refresh()
  }
  return moveTo(repo, head, newHead)
}

function succeeded(repo: LocalRepo, commit: string, branch: string): StepResult {
  const output: Record<string, unknown> = { commit, branch }
  const url = commitURL(repo.url, commit, 'github')
  if (url) output.commitURL = url
  return { status: 'Succeeded', output }
}
