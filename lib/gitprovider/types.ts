import { z } from 'zod'

/** Git hosting providers a step's `provider` may name (Kargo's list). Tugboat has clients for github, gitlab and gitea. */
export const GitProviderNameSchema = z.enum(['azure', 'bitbucket', 'gitea', 'github', 'gitlab'])
export type GitProviderName = z.infer<typeof GitProviderNameSchema>

/** A pull request (a GitLab merge request), as every provider client reports it. */
export interface PullRequest {
  /** The number users see (GitHub/Gitea `number`, GitLab `iid`); unique within one repository. */
  number: number
  /** The web page of the pull request. */
  url: string
  /** Logically open (GitLab's `locked` counts as open). */
  open: boolean
  merged: boolean
  /** The commit the merge produced on the target branch, once merged (the squash or rebase result where applicable). */
  mergeCommitSHA?: string
  /** The commit at the head of the source branch. */
  headSHA?: string
  headBranch?: string
  baseBranch?: string
  /** ISO-8601 creation time. */
  createdAt?: string
}

export interface CreatePullRequestOptions {
  /** The source branch. */
  head: string
  /** The target branch. */
  base: string
  title: string
  description: string
  labels?: string[]
}

export interface ListPullRequestsOptions {
  /** Only pull requests from this source branch. */
  head?: string
  /** Only pull requests into this target branch. */
  base?: string
  /** Only pull requests whose source branch head is this commit. */
  headCommit?: string
}

/** Whether `pr` passes every filter given (the clients re-check what the provider's query filtered). */
export function matchesListOptions(pr: PullRequest, opts: ListPullRequestsOptions): boolean {
  return (
    (opts.head === undefined || pr.headBranch === opts.head) &&
    (opts.base === undefined || pr.baseBranch === opts.base) &&
    (opts.headCommit === undefined || pr.headSHA === opts.headCommit)
  )
}

/** The outcome of one merge attempt: merged (with the PR after the merge), or not mergeable yet. */
export type MergeOutcome = { merged: true; pr: PullRequest } | { merged: false; reason: string }

/**
 * One repository on a git hosting provider. Errors are Tugboat errors: `TerminalError` for refusals retrying cannot
 * fix (401, 403, 404, validation), `ConflictError` when an identical pull request already exists, `UpstreamError` for
 * server errors, rate limits and network failures.
 */
export interface GitProvider {
  readonly name: 'github' | 'gitlab' | 'gitea'
  /** The REST API root the client talks to, e.g. `https://api.github.com`. */
  readonly apiBaseURL: string
  createPullRequest(opts: CreatePullRequestOptions): Promise<PullRequest>
  getPullRequest(number: number): Promise<PullRequest>
  /** Open pull requests matching every given filter (all pages). */
  listOpenPullRequests(opts: ListPullRequestsOptions): Promise<PullRequest[]>
  /**
   * Merges an open pull request when the provider says it is mergeable (Kargo's semantics): an already merged PR
   * is a success, a closed one or a conflict is an error, pending checks, reviews or a draft are `merged: false`.
   */
  mergePullRequest(number: number, opts?: { mergeMethod?: string }): Promise<MergeOutcome>
}

/** How to build a provider client. */
export interface GitProviderOptions {
  /** Which provider; inferred from the repoURL's host when omitted. */
  name?: GitProviderName
  /** API token (the project's git credentials' password). Requests are anonymous without it. */
  token?: string
  /** Accept any TLS certificate from the API server. */
  insecureSkipTLSVerify?: boolean
  /** Overrides the API root derived from the repoURL (e.g. `https://git.example.com/api/v3`). */
  apiBaseURL?: string
  /** Injectable fetch (default `globalThis.fetch`, or a TLS-unverified one with `insecureSkipTLSVerify`). */
  fetch?: typeof fetch
  /** Time limit of one API request. Default 30 s. */
  requestTimeoutMs?: number
  signal?: AbortSignal
}
