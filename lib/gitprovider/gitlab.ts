import { z } from 'zod'
import { ConflictError, TerminalError } from '../errors.js'
import { errorDetail, MAX_PAGES, providerRestClient } from './http.js'
import type { RepoLocation } from './repo-url.js'
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
 * GitLab (gitlab.com or self-managed) merge requests over REST API v4. The project is addressed by its URL-encoded
 * path (`group%2Fsub%2Fproject`), a merge request by its `iid`. Mergeability is `detailed_merge_status`: only
 * `mergeable` is merged; anything else (checking, CI running, not approved, conflict, draft) is "not yet", as Kargo.
 */

const MergeRequestSchema = z.object({
  iid: z.number().int(),
  web_url: z.string(),
  state: z.string(),
  sha: z.string().nullish(),
  merge_commit_sha: z.string().nullish(),
  squash_commit_sha: z.string().nullish(),
  source_branch: z.string(),
  target_branch: z.string(),
  created_at: z.string().nullish(),
  draft: z.boolean().nullish(),
  work_in_progress: z.boolean().nullish(),
  detailed_merge_status: z.string().nullish(),
})
type MergeRequest = z.infer<typeof MergeRequestSchema>

/** The REST API root for a repository host: `<scheme>://<host>/api/v4`. */
export function gitlabAPIBaseURL(location: RepoLocation): string {
  return `${location.host === 'gitlab.com' ? 'https' : location.scheme}://${location.host}/api/v4`
}

/** A GitLab client for the project at `location`. */
export function gitlabProvider(location: RepoLocation, opts: GitProviderOptions = {}): GitProvider {
  const api = providerRestClient(
    {
      label: 'GitLab',
      defaultBaseURL: gitlabAPIBaseURL(location),
      headers: { Accept: 'application/json' },
      authHeaders: (token) => ({ 'PRIVATE-TOKEN': token }),
    },
    opts,
  )
  const project = location.path
  const mrPath = `/projects/${encodeURIComponent(project)}/merge_requests`

  function getMR(iid: number): Promise<MergeRequest> {
    return api.request(
      MergeRequestSchema,
      'GET',
      `${mrPath}/${iid}`,
      `getting merge request !${iid} of ${project}`,
    )
  }

  return {
    name: 'gitlab',
    apiBaseURL: api.baseURL,

    async createPullRequest(o: CreatePullRequestOptions): Promise<PullRequest> {
      const action = `opening a merge request from ${o.head} into ${o.base} in ${project}`
      const res = await api.send('POST', mrPath, {
        body: {
          source_branch: o.head,
          target_branch: o.base,
          title: o.title,
          description: o.description,
          ...(o.labels && o.labels.length > 0 ? { labels: o.labels.join(',') } : {}),
        },
      })
      // GitLab answers 409 "Another open merge request already exists for this source branch: !N".
      if (res.status === 409) {
        throw new ConflictError(`GitLab: ${action}: ${errorDetail(res.body)}`, { data: { status: 409 } })
      }
      if (res.status !== 201 && res.status !== 200) throw api.failure(res, action)
      return toPullRequest(api.parse(MergeRequestSchema, res, action))
    },

    async getPullRequest(iid: number): Promise<PullRequest> {
      return toPullRequest(await getMR(iid))
    },

    async listOpenPullRequests(o: ListPullRequestsOptions): Promise<PullRequest[]> {
      const action = `listing the open merge requests of ${project}`
      const found: PullRequest[] = []
      let page: string | undefined = '1'
      for (let n = 0; page && n < MAX_PAGES; n++) {
        const res = await api.send('GET', mrPath, {
          query: { state: 'opened', source_branch: o.head, target_branch: o.base, per_page: 100, page },
        })
        if (res.status !== 200) throw api.failure(res, action)
        const mrs = api.parse(z.array(MergeRequestSchema), res, action).map(toPullRequest)
        found.push(...mrs.filter((pr) => matchesListOptions(pr, o)))
        page = res.headers.get('x-next-page') || undefined
      }
      return found
    },

    async mergePullRequest(iid: number, o: { mergeMethod?: string } = {}): Promise<MergeOutcome> {
      const mr = await getMR(iid)
      if (mr.state === 'merged') return { merged: true, pr: toPullRequest(mr) }
      // `locked` is GitLab's state while a merge is under way: look again soon.
      if (mr.state === 'locked') return { merged: false, reason: `merge request !${iid} is being merged` }
      if (mr.state !== 'opened') {
        throw new TerminalError(`GitLab: merge request !${iid} of ${project} is closed but not merged`)
      }
      if (mr.draft || mr.work_in_progress)
        return { merged: false, reason: `merge request !${iid} is a draft` }
      if (mr.detailed_merge_status !== 'mergeable') {
        return {
          merged: false,
          reason: `merge request !${iid} is not mergeable yet (${mr.detailed_merge_status ?? 'unknown status'})`,
        }
      }
      // The accept endpoint knows a merge commit (the default) and, by flag, a squash; nothing else.
      let body: Record<string, unknown>
      switch (o.mergeMethod ?? '') {
        case '':
        case 'merge':
          body = {}
          break
        case 'squash':
          body = { squash: true }
          break
        default:
          throw new TerminalError(`GitLab: unsupported merge method "${o.mergeMethod}" (use merge or squash)`)
      }
      const action = `merging merge request !${iid} of ${project}`
      const merged = await api.request(MergeRequestSchema, 'PUT', `${mrPath}/${iid}/merge`, action, { body })
      return { merged: true, pr: toPullRequest(merged) }
    },
  }
}

function toPullRequest(mr: MergeRequest): PullRequest {
  const merged = mr.state === 'merged'
  // A fast-forward merge makes no merge commit: the target then points at the MR's head (or its squash commit).
  const mergeCommit = merged
    ? (mr.merge_commit_sha ?? mr.squash_commit_sha ?? mr.sha ?? undefined)
    : undefined
  return {
    number: mr.iid,
    url: mr.web_url,
    open: mr.state === 'opened' || mr.state === 'locked',
    merged,
    ...(mergeCommit ? { mergeCommitSHA: mergeCommit } : {}),
    ...(mr.sha ? { headSHA: mr.sha } : {}),
    headBranch: mr.source_branch,
    baseBranch: mr.target_branch,
    ...(mr.created_at ? { createdAt: mr.created_at } : {}),
  }
}
