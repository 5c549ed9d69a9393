import { z } from 'zod'
import { githubRestClient } from './github.js'
import { errorDetail } from './http.js'
import { ownerAndRepo, type RepoLocation } from './repo-url.js'
import type { GitProviderOptions } from './types.js'

/*
 * GitHub's Git Data API (refs, commits) and the compare API, for `github-push`: commits created through the API
 * without an author or committer are made by the token's user and signed by GitHub ("Verified").
 */

const SignatureSchema = z.object({ name: z.string(), email: z.string(), date: z.string().nullish() })
export type GitHubSignature = z.infer<typeof SignatureSchema>

const RefSchema = z.object({ ref: z.string(), object: z.object({ sha: z.string(), type: z.string() }) })

const CompareCommitSchema = z.object({
  sha: z.string(),
  commit: z.object({
    author: SignatureSchema.nullish(),
    committer: SignatureSchema.nullish(),
    message: z.string(),
    tree: z.object({ sha: z.string() }),
  }),
  parents: z.array(z.object({ sha: z.string() })),
})
export type CompareCommit = z.infer<typeof CompareCommitSchema>

const ComparisonSchema = z.object({
  status: z.enum(['ahead', 'behind', 'diverged', 'identical']),
  ahead_by: z.number().int().nonnegative(),
  behind_by: z.number().int().nonnegative(),
  total_commits: z.number().int().nonnegative(),
  base_commit: CompareCommitSchema,
  merge_base_commit: CompareCommitSchema,
  commits: z.array(CompareCommitSchema),
})
export type Comparison = z.infer<typeof ComparisonSchema>

const GitCommitSchema = z.object({
  sha: z.string(),
  tree: z.object({ sha: z.string() }),
  message: z.string(),
  author: SignatureSchema,
  committer: SignatureSchema,
  parents: z.array(z.object({ sha: z.string() })),
  verification: z.object({ verified: z.boolean(), reason: z.string().nullish() }).nullish(),
})
export type GitHubCommit = z.infer<typeof GitCommitSchema>

/** What `POST /git/commits` takes; without `author`/`committer` GitHub attributes (and signs) the commit itself. */
export interface NewGitHubCommit {
  message: string
  tree: string
  parents: string[]
  author?: GitHubSignature
  committer?: GitHubSignature
}

/** One GitHub repository's refs and commit objects. Errors as the other clients' (TerminalError, UpstreamError). */
export interface GitHubGitData {
  /** `owner/repo` */
  readonly slug: string
  /** The commit a branch points at; `undefined` when the branch does not exist. */
  branchHead(branch: string): Promise<string | undefined>
  /** `GET /compare/{base}...{head}`: what `head` has that `base` lacks, oldest first. */
  compare(base: string, head: string): Promise<Comparison>
  createCommit(commit: NewGitHubCommit): Promise<GitHubCommit>
  getCommit(sha: string): Promise<GitHubCommit>
  /** Creates `ref` (a full ref); `exists` when it already does. */
  createRef(ref: string, sha: string): Promise<'created' | 'exists'>
  /** Moves `ref` (a full ref); `rejected` when GitHub refuses it as not a fast-forward. */
  updateRef(ref: string, sha: string, force: boolean): Promise<'updated' | 'rejected'>
  deleteRef(ref: string): Promise<void>
}

/** A Git Data client for the repository at `location` (API root as {@link githubRestClient}, or `apiBaseURL`). */
export function githubGitData(location: RepoLocation, opts: GitProviderOptions = {}): GitHubGitData {
  const { slug, repoPath } = ownerAndRepo(location, 'GitHub')
  const api = githubRestClient(location, opts)
  // `refs/heads/a/b` → `heads/a/b`, each segment escaped (GitHub takes the slashes of a ref name literally).
  const refPath = (ref: string) =>
    ref
      .replace(/^refs\//, '')
      .split('/')
      .map(encodeURIComponent)
      .join('/')

  return {
    slug,

    async branchHead(branch) {
      const action = `reading branch ${branch} of ${slug}`
      const res = await api.send('GET', `${repoPath}/git/ref/${refPath(`heads/${branch}`)}`)
      if (res.status === 404) return undefined
      if (res.status !== 200) throw api.failure(res, action)
      return api.parse(RefSchema, res, action).object.sha
    },

    async compare(base, head) {
      return api.request(
        ComparisonSchema,
        'GET',
        `${repoPath}/compare/${encodeURIComponent(base)}...${encodeURIComponent(head)}`,
        // Unpaginated, GitHub lists up to 250 commits (and `total_commits`, to tell when there are more).
        `comparing ${base.slice(0, 7)}...${head.slice(0, 7)} in ${slug}`,
      )
    },

    async createCommit(commit) {
      return api.request(GitCommitSchema, 'POST', `${repoPath}/git/commits`, `creating a commit in ${slug}`, {
        body: {
          message: commit.message,
          tree: commit.tree,
          parents: commit.parents,
          ...(commit.author ? { author: commit.author } : {}),
          ...(commit.committer ? { committer: commit.committer } : {}),
        },
      })
    },

    async getCommit(sha) {
      return api.request(
        GitCommitSchema,
        'GET',
        `${repoPath}/git/commits/${encodeURIComponent(sha)}`,
        `reading commit ${sha.slice(0, 7)} of ${slug}`,
      )
    },

    async createRef(ref, sha) {
      const action = `creating ${ref} in ${slug}`
      const res = await api.send('POST', `${repoPath}/git/refs`, { body: { ref, sha } })
      if (res.status === 422 && /already exists/i.test(errorDetail(res.body))) return 'exists'
      if (res.status !== 201 && res.status !== 200) throw api.failure(res, action)
      api.parse(RefSchema, res, action)
      return 'created'
    },

    async updateRef(ref, sha, force) {
      const action = `updating ${ref} of ${slug}`
      const res = await api.send('PATCH', `${repoPath}/git/refs/${refPath(ref)}`, { body: { sha, force } })
      // "Update is not a fast forward" (or "Reference update failed" when the ref moved under the update).
      if (res.status === 422 && /fast.forward|update failed/i.test(errorDetail(res.body))) return 'rejected'
      if (res.status !== 200) throw api.failure(res, action)
      api.parse(RefSchema, res, action)
      return 'updated'
    },

    async deleteRef(ref) {
      const res = await api.send('DELETE', `${repoPath}/git/refs/${refPath(ref)}`)
      if (res.status !== 204 && res.status !== 200) throw api.failure(res, `deleting ${ref} of ${slug}`)
    },
  }
}
