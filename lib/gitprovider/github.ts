import { z } from 'zod'
import { ConflictError, TerminalError } from '../errors.js'
import { errorDetail, listAllPages, providerRestClient, type RestClient } from './http.js'
import { ownerAndRepo, type RepoLocation } from './repo-url.js'
import {
  matchesListOptions,
  type CreatePullRequestOptions,
  type GitProvider,
  type GitProviderOptions,
  type ListPullRequestsOptions,
  type MergeOutcome,
  type PullRequest,
} from './types.js'

/*
 * GitHub (github.com, GitHub Enterprise Server and GHE.com) over its REST API, with Kargo's merge rules: GitHub
 * computes mergeability asynchronously and reports it in `mergeable_state`; `dirty` (conflicts) is final, `unknown`
 * and `draft` are "not yet", `blocked`/`behind` are worth one attempt (the token may bypass the rules), and a 405 from
 * the merge call is "not yet" only when its message says the condition can clear.
 */

const PullSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  state: z.string(),
  merged: z.boolean().optional(),
  merged_at: z.string().nullish(),
  merge_commit_sha: z.string().nullish(),
  created_at: z.string().nullish(),
  draft: z.boolean().nullish(),
  mergeable: z.boolean().nullish(),
  mergeable_state: z.string().nullish(),
  head: z.object({ ref: z.string(), sha: z.string() }),
  base: z.object({ ref: z.string() }),
})
type Pull = z.infer<typeof PullSchema>

const MergeResultSchema = z.object({
  sha: z.string().nullish(),
  merged: z.boolean(),
  message: z.string().nullish(),
})

const LabelsSchema = z.array(z.object({ name: z.string() }))

/** The REST API root for a repository host: api.github.com, `api.<host>` on GHE.com, `<host>/api/v3` on GHES. */
export function githubAPIBaseURL(location: RepoLocation): string {
  if (location.host === 'github.com' || location.host === 'www.github.com') return 'https://api.github.com'
  if (location.host.endsWith('.ghe.com')) return `https://api.${location.host}`
  return `${location.scheme}://${location.host}/api/v3`
}

/** A REST client for GitHub's API at `location` (or `apiBaseURL`), authenticated with the token as a Bearer. */
export function githubRestClient(location: RepoLocation, opts: GitProviderOptions): RestClient {
  return providerRestClient(
    {
      label: 'GitHub',
      defaultBaseURL: githubAPIBaseURL(location),
      headers: { Accept: 'application/vnd.github+json', 'X-GitHub-Api-Version': '2022-11-28' },
      authHeaders: (token) => ({ Authorization: `Bearer ${token}` }),
    },
    opts,
  )
}

/** A GitHub client for the repository at `location`. */
export function githubProvider(location: RepoLocation, opts: GitProviderOptions = {}): GitProvider {
  const { owner, slug, repoPath } = ownerAndRepo(location, 'GitHub')
  const api = githubRestClient(location, opts)

  async function getPull(number: number): Promise<Pull> {
    return api.request(
      PullSchema,
      'GET',
      `${repoPath}/pulls/${number}`,
      `getting pull request #${number} of ${slug}`,
    )
  }

  return {
    name: 'github',
    apiBaseURL: api.baseURL,

    async createPullRequest(o: CreatePullRequestOptions): Promise<PullRequest> {
      const action = `opening a pull request from ${o.head} into ${o.base} in ${slug}`
      const res = await api.send('POST', `${repoPath}/pulls`, {
        body: { title: o.title, head: o.head, base: o.base, body: o.description },
      })
      if (res.status === 422 && /already exists/i.test(errorDetail(res.body))) {
        throw new ConflictError(`GitHub: ${action}: ${errorDetail(res.body)}`, { data: { status: 422 } })
      }
      if (res.status !== 201 && res.status !== 200) throw api.failure(res, action)
      const pull = api.parse(PullSchema, res, action)
      if (o.labels && o.labels.length > 0) {
        // Labels live on the issue behind the pull request; GitHub creates labels that do not exist yet.
        await api.request(
          LabelsSchema,
          'POST',
          `${repoPath}/issues/${pull.number}/labels`,
          `labelling #${pull.number}`,
          {
            body: { labels: o.labels },
          },
        )
      }
      return toPullRequest(pull)
    },

    async getPullRequest(number: number): Promise<PullRequest> {
      return toPullRequest(await getPull(number))
    },

    async listOpenPullRequests(o: ListPullRequestsOptions): Promise<PullRequest[]> {
      const pulls = await listAllPages(
        api,
        z.array(PullSchema),
        `${repoPath}/pulls`,
        {
          state: 'open',
          // GitHub's head filter wants `owner:branch`; a bare branch name is silently ignored.
          head: o.head ? `${owner}:${o.head}` : undefined,
          base: o.base,
          per_page: 100,
        },
        `listing the open pull requests of ${slug}`,
      )
      return pulls.map(toPullRequest).filter((pr) => matchesListOptions(pr, o))
    },

    async mergePullRequest(number: number, o: { mergeMethod?: string } = {}): Promise<MergeOutcome> {
      const pull = await getPull(number)
      if (isMerged(pull)) return { merged: true, pr: toPullRequest(pull) }
      if (pull.state !== 'open') {
        throw new TerminalError(`GitHub: pull request #${number} of ${slug} is closed but not merged`)
      }
      let policyBlocked = false
      switch (pull.mergeable_state) {
        case 'clean':
        case 'unstable':
        case 'has_hooks':
          break
        case 'dirty':
          throw new TerminalError(
            `GitHub: pull request #${number} of ${slug} has conflicts and cannot be merged`,
          )
        case 'blocked':
        case 'behind':
          // The rules may not apply to this token (a bypass actor): try, and let GitHub decide.
          policyBlocked = true
          break
        case 'draft':
          return { merged: false, reason: `pull request #${number} is a draft` }
        case 'unknown':
          return { merged: false, reason: `GitHub is still computing whether #${number} can be merged` }
        default:
          if (pull.draft) return { merged: false, reason: `pull request #${number} is a draft` }
          if (pull.mergeable !== true)
            return { merged: false, reason: `pull request #${number} is not mergeable yet` }
      }
      const action = `merging pull request #${number} of ${slug}`
      const res = await api.send('PUT', `${repoPath}/pulls/${number}/merge`, {
        body: o.mergeMethod ? { merge_method: o.mergeMethod } : {},
      })
      if (res.status === 405) {
        const detail = errorDetail(res.body)
        if (isTransientMerge405(detail, policyBlocked)) return { merged: false, reason: detail }
      }
      if (res.status !== 200) throw api.failure(res, action)
      const result = api.parse(MergeResultSchema, res, action)
      if (!result.merged)
        throw new TerminalError(
          `GitHub: ${action}: merge rejected${result.message ? `: ${result.message}` : ''}`,
        )
      return { merged: true, pr: toPullRequest(await getPull(number)) }
    },
  }
}

/**
 * GitHub answers 405 for every merge it will not do. "not allowed" (a disabled merge method) never clears; "Base
 * branch was modified" and "Pull Request is not mergeable" (a stale mergeable_state) may; anything else only when the
 * PR was already blocked by policy (the token cannot bypass the rules, which a review or a check may yet satisfy).
 */
function isTransientMerge405(message: string, policyBlocked: boolean): boolean {
  if (message.includes('not allowed')) return false
  if (message.includes('Base branch was modified')) return true
  if (message.includes('Pull Request is not mergeable')) return true
  return policyBlocked
}

function isMerged(pull: Pull): boolean {
  return (pull.merged_at !== null && pull.merged_at !== undefined) || pull.merged === true
}

function toPullRequest(pull: Pull): PullRequest {
  const merged = isMerged(pull)
  return {
    number: pull.number,
    url: pull.html_url,
    open: pull.state === 'open',
    merged,
    // On an open PR GitHub's merge_commit_sha is a throw-away test merge; only a merged PR's is real.
    ...(merged && pull.merge_commit_sha ? { mergeCommitSHA: pull.merge_commit_sha } : {}),
    headSHA: pull.head.sha,
    headBranch: pull.head.ref,
    baseBranch: pull.base.ref,
    ...(pull.created_at ? { createdAt: pull.created_at } : {}),
  }
}
