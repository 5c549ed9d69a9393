import { z } from 'zod'
import { ConflictError, TerminalError } from '../errors.js'
import { errorDetail, listAllPages, providerRestClient } from './http.js'
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
 * Gitea (and Forgejo) pull requests over REST API v1. Labels are given by id, so names are resolved against the
 * repository's labels first (a missing one is an error, as in Kargo). Gitea does not check the merge style
 * server-side, so it is checked here.
 */

const PullSchema = z.object({
  number: z.number().int(),
  html_url: z.string(),
  state: z.string(),
  merged: z.boolean().nullish(),
  merge_commit_sha: z.string().nullish(),
  mergeable: z.boolean().nullish(),
  draft: z.boolean().nullish(),
  created_at: z.string().nullish(),
  head: z.object({ ref: z.string(), sha: z.string().nullish() }),
  base: z.object({ ref: z.string() }),
})
type Pull = z.infer<typeof PullSchema>

const LabelListSchema = z.array(z.object({ id: z.number().int(), name: z.string() }))

const MERGE_STYLES = new Set([
  'fast-forward-only',
  'manually-merged',
  'merge',
  'rebase',
  'rebase-merge',
  'squash',
])
const PAGE_SIZE = 50

/** The REST API root for a repository host: `<scheme>://<host>/api/v1`. */
export function giteaAPIBaseURL(location: RepoLocation): string {
  return `${location.scheme}://${location.host}/api/v1`
}

/** A Gitea client for the repository at `location`. */
export function giteaProvider(location: RepoLocation, opts: GitProviderOptions = {}): GitProvider {
  const { slug, repoPath } = ownerAndRepo(location, 'Gitea')
  const api = providerRestClient(
    {
      label: 'Gitea',
      defaultBaseURL: giteaAPIBaseURL(location),
      headers: { Accept: 'application/json' },
      authHeaders: (token) => ({ Authorization: `token ${token}` }),
    },
    opts,
  )

  function getPull(index: number): Promise<Pull> {
    return api.request(
      PullSchema,
      'GET',
      `${repoPath}/pulls/${index}`,
      `getting pull request #${index} of ${slug}`,
    )
  }

  /** Every page of a list, at Gitea's largest page size. */
  function listAll<T>(schema: z.ZodType<T[]>, path: string, query: Record<string, string>, action: string) {
    return listAllPages(api, schema, path, { ...query, page: 1, limit: PAGE_SIZE }, action)
  }

  async function labelIDs(names: string[]): Promise<number[]> {
    const labels = await listAll(LabelListSchema, `${repoPath}/labels`, {}, `listing the labels of ${slug}`)
    const byName = new Map(labels.map((l) => [l.name, l.id]))
    const wanted = [...new Set(names)]
    const missing = wanted.filter((n) => !byName.has(n))
    if (missing.length > 0) {
      throw new TerminalError(`Gitea: labels not found in repository ${slug}: ${missing.join(', ')}`)
    }
    return wanted.flatMap((n) => byName.get(n) ?? [])
  }

  return {
    name: 'gitea',
    apiBaseURL: api.baseURL,

    async createPullRequest(o: CreatePullRequestOptions): Promise<PullRequest> {
      const action = `opening a pull request from ${o.head} into ${o.base} in ${slug}`
      const labels = o.labels && o.labels.length > 0 ? await labelIDs(o.labels) : undefined
      const res = await api.send('POST', `${repoPath}/pulls`, {
        body: {
          head: o.head,
          base: o.base,
          title: o.title,
          body: o.description,
          ...(labels ? { labels } : {}),
        },
      })
      // Gitea answers 409 "pull request already exists for these targets".
      if (res.status === 409) {
        throw new ConflictError(`Gitea: ${action}: ${errorDetail(res.body)}`, { data: { status: 409 } })
      }
      if (res.status !== 201 && res.status !== 200) throw api.failure(res, action)
      return toPullRequest(api.parse(PullSchema, res, action))
    },

    async getPullRequest(index: number): Promise<PullRequest> {
      return toPullRequest(await getPull(index))
    },

    async listOpenPullRequests(o: ListPullRequestsOptions): Promise<PullRequest[]> {
      const pulls = await listAll(
        z.array(PullSchema),
        `${repoPath}/pulls`,
        { state: 'open' },
        `listing the open pull requests of ${slug}`,
      )
      return pulls.map(toPullRequest).filter((pr) => matchesListOptions(pr, o))
    },

    async mergePullRequest(index: number, o: { mergeMethod?: string } = {}): Promise<MergeOutcome> {
      const pull = await getPull(index)
      if (pull.merged) return { merged: true, pr: toPullRequest(pull) }
      if (pull.state !== 'open') {
        throw new TerminalError(`Gitea: pull request #${index} of ${slug} is closed but not merged`)
      }
      if (pull.draft) return { merged: false, reason: `pull request #${index} is a draft` }
      if (!pull.mergeable) return { merged: false, reason: `pull request #${index} is not mergeable yet` }
      const style = o.mergeMethod || 'merge'
      if (!MERGE_STYLES.has(style)) {
        throw new TerminalError(
          `Gitea: unsupported merge method "${style}" (use one of ${[...MERGE_STYLES].join(', ')})`,
        )
      }
      const action = `merging pull request #${index} of ${slug}`
      const res = await api.send('POST', `${repoPath}/pulls/${index}/merge`, { body: { Do: style } })
      if (res.status !== 200 && res.status !== 204) throw api.failure(res, action)
      return { merged: true, pr: toPullRequest(await getPull(index)) }
    },
  }
}

function toPullRequest(pull: Pull): PullRequest {
  const merged = pull.merged === true
  return {
    number: pull.number,
    url: pull.html_url,
    open: pull.state === 'open',
    merged,
    ...(merged && pull.merge_commit_sha ? { mergeCommitSHA: pull.merge_commit_sha } : {}),
    ...(pull.head.sha ? { headSHA: pull.head.sha } : {}),
    headBranch: pull.head.ref,
    baseBranch: pull.base.ref,
    ...(pull.created_at ? { createdAt: pull.created_at } : {}),
  }
}
