import { z } from 'zod'
import {
  FakeHttpError,
  type BodyRejections,
  MergeFailure,
  fakeHost,
  parseBody,
  paginate,
  valueAt,
  type FakeGitProvider,
  type FakeProviderOptions,
  type FakePull,
  type FakeRequest,
  type Reply,
  type RepoState,
} from './core.js'

/*
 * A contract fake of GitLab's REST API v4 merge request routes: list, create, get and merge (accept). Projects are
 * addressed by URL-encoded path (`group%2Fproject`) as GitLab allows; missing parameters are a 400 `{"error": "x is
 * missing"}`, a missing branch a 422, a duplicate open MR a 409, a bad PRIVATE-TOKEN a 401 "401 Unauthorized".
 * Mergeability shows in `detailed_merge_status`; accepting a MR that is not mergeable is a 405, a conflict a 406.
 */

const CreateSchema = z.object({
  source_branch: z.string().min(1),
  target_branch: z.string().min(1),
  title: z.string().min(1),
  description: z.string().optional(),
  labels: z.union([z.string(), z.array(z.string())]).optional(),
  assignee_id: z.number().int().optional(),
  remove_source_branch: z.boolean().optional(),
  squash: z.boolean().optional(),
  allow_collaboration: z.boolean().optional(),
  target_project_id: z.number().int().optional(),
})

const AcceptSchema = z.object({
  merge_commit_message: z.string().optional(),
  squash_commit_message: z.string().optional(),
  squash: z.boolean().optional(),
  should_remove_source_branch: z.boolean().optional(),
  merge_when_pipeline_succeeds: z.boolean().optional(),
  auto_merge: z.boolean().optional(),
  sha: z.string().optional(),
})

/** Starts a fake GitLab API on 127.0.0.1: API under `/api/v4`, git proxied to `opts.git` when given. */
export async function startGitLabFake(opts: FakeProviderOptions = {}): Promise<FakeGitProvider> {
  const host = fakeHost(opts)
  const { token, store } = host
  const author = { id: 1, username: 'tugboat-bot', name: 'Tugboat Bot', state: 'active', locked: false }

  function mrJSON(repo: RepoState, mr: FakePull) {
    const state = mr.merged ? 'merged' : mr.state === 'open' ? 'opened' : 'closed'
    const detailed = detailedMergeStatus(mr)
    return {
      id: mr.id,
      iid: mr.number,
      project_id: 1,
      title: mr.draft ? `Draft: ${mr.title}` : mr.title,
      description: mr.body,
      state,
      created_at: mr.createdAt,
      updated_at: mr.updatedAt,
      merged_by: mr.merged ? author : null,
      merge_user: mr.merged ? author : null,
      merged_at: mr.mergedAt ?? null,
      closed_by: mr.state === 'closed' && !mr.merged ? author : null,
      closed_at: mr.state === 'closed' && !mr.merged ? (mr.closedAt ?? null) : null,
      target_branch: mr.base,
      source_branch: mr.head,
      user_notes_count: 0,
      upvotes: 0,
      downvotes: 0,
      author,
      assignees: [],
      assignee: null,
      reviewers: [],
      source_project_id: 1,
      target_project_id: 1,
      labels: mr.labels,
      draft: mr.draft,
      work_in_progress: mr.draft,
      milestone: null,
      merge_when_pipeline_succeeds: false,
      merge_status:
        detailed === 'mergeable'
          ? 'can_be_merged'
          : detailed === 'conflict'
            ? 'cannot_be_merged'
            : 'checking',
      detailed_merge_status: detailed,
      sha: mr.headSHA,
      merge_commit_sha: mr.merged ? (mr.mergeCommitSHA ?? null) : null,
      squash_commit_sha: null,
      discussion_locked: null,
      should_remove_source_branch: null,
      force_remove_source_branch: false,
      reference: `!${mr.number}`,
      references: { short: `!${mr.number}`, relative: `!${mr.number}`, full: `${repo.name}!${mr.number}` },
      web_url: `${host.url}/${repo.name}/-/merge_requests/${mr.number}`,
      time_stats: {
        time_estimate: 0,
        total_time_spent: 0,
        human_time_estimate: null,
        human_total_time_spent: null,
      },
      squash: false,
      squash_on_merge: false,
      task_completion_status: { count: 0, completed_count: 0 },
      has_conflicts: mr.readiness === 'conflict',
      blocking_discussions_resolved: true,
    }
  }

  function findRepo(id: string): RepoState {
    const repo = store.repo(decodeURIComponent(id))
    if (!repo) throw new FakeHttpError(404, { message: '404 Project Not Found' })
    return repo
  }

  function findMR(repo: RepoState, iid: string): FakePull {
    const mr = store.pull(repo, Number(iid))
    if (!mr) throw new FakeHttpError(404, { message: '404 Not found' })
    return mr
  }

  async function route(request: FakeRequest, path: string): Promise<Reply> {
    authenticate(request, token)
    let match: RegExpExecArray | null
    if ((match = /^\/projects\/([^/]+)\/merge_requests$/.exec(path))) {
      const repo = findRepo(match[1]!)
      await store.refresh(repo)
      if (request.method === 'GET') return listMRs(repo, request)
      if (request.method === 'POST') return createMR(repo, request)
    } else if ((match = /^\/projects\/([^/]+)\/merge_requests\/(\d+)$/.exec(path))) {
      const repo = findRepo(match[1]!)
      await store.refresh(repo)
      const mr = findMR(repo, match[2]!)
      if (request.method === 'GET') return { status: 200, body: mrJSON(repo, mr) }
    } else if ((match = /^\/projects\/([^/]+)\/merge_requests\/(\d+)\/merge$/.exec(path))) {
      const repo = findRepo(match[1]!)
      await store.refresh(repo)
      const mr = findMR(repo, match[2]!)
      if (request.method === 'PUT') return acceptMR(repo, mr, request)
    } else {
      throw new FakeHttpError(404, { error: '404 Not Found' })
    }
    throw new FakeHttpError(405, { message: '405 Method Not Allowed' })
  }

  function listMRs(repo: RepoState, request: FakeRequest): Reply {
    const state = request.query.get('state') ?? 'all'
    if (!['opened', 'closed', 'locked', 'merged', 'all'].includes(state)) {
      throw new FakeHttpError(400, { error: 'state does not have a valid value' })
    }
    const source = request.query.get('source_branch')
    const target = request.query.get('target_branch')
    const mrs = repo.pulls
      .filter((mr) => {
        const s = mr.merged ? 'merged' : mr.state === 'open' ? 'opened' : 'closed'
        return (
          (state === 'all' || s === state) &&
          (!source || mr.head === source) &&
          (!target || mr.base === target)
        )
      })
      .sort((a, b) => b.number - a.number)
    const { page, headers } = paginate(mrs, request, host.url, {
      sizeParam: 'per_page',
      defaultSize: 20,
      maxSize: 100,
    })
    const size = Math.min(Number(request.query.get('per_page') ?? 20) || 20, 100)
    const pageNo = Math.max(Number(request.query.get('page') ?? 1) || 1, 1)
    const totalPages = Math.max(Math.ceil(mrs.length / size), 1)
    return {
      status: 200,
      headers: {
        ...headers,
        'x-page': String(pageNo),
        'x-per-page': String(size),
        'x-total': String(mrs.length),
        'x-total-pages': String(totalPages),
        'x-next-page': pageNo < totalPages ? String(pageNo + 1) : '',
        'x-prev-page': pageNo > 1 ? String(pageNo - 1) : '',
      },
      body: page.map((mr) => mrJSON(repo, mr)),
    }
  }

  async function createMR(repo: RepoState, request: FakeRequest): Promise<Reply> {
    const body = parseBody(CreateSchema, request, rejectBody)
    const headSHA = await store.branchSHA(repo, body.source_branch)
    const baseSHA = await store.branchSHA(repo, body.target_branch)
    if (!headSHA)
      throw new FakeHttpError(422, { message: [`Source branch "${body.source_branch}" does not exist`] })
    if (!baseSHA)
      throw new FakeHttpError(422, { message: [`Target branch "${body.target_branch}" does not exist`] })
    if (body.source_branch === body.target_branch) {
      throw new FakeHttpError(422, { message: ["You can't use same project/branch for source and target"] })
    }
    const existing = repo.pulls.find(
      (mr) => mr.state === 'open' && mr.head === body.source_branch && mr.base === body.target_branch,
    )
    if (existing) {
      throw new FakeHttpError(409, {
        message: [`Another open merge request already exists for this source branch: !${existing.number}`],
      })
    }
    const draft = /^(draft:|\[draft\]|\(draft\))/i.test(body.title)
    const mr = store.newPull(repo, {
      head: body.source_branch,
      base: body.target_branch,
      headSHA,
      baseSHA,
      title: body.title.replace(/^(draft:|\[draft\]|\(draft\))\s*/i, ''),
      body: body.description ?? '',
      draft,
    })
    const labels = typeof body.labels === 'string' ? body.labels.split(',') : (body.labels ?? [])
    for (const label of labels.map((l) => l.trim()).filter((l) => l !== '')) {
      store.label(repo, label)
      mr.labels.push(label)
    }
    return { status: 201, body: mrJSON(repo, mr) }
  }

  async function acceptMR(repo: RepoState, mr: FakePull, request: FakeRequest): Promise<Reply> {
    const body = parseBody(AcceptSchema, request, rejectBody)
    if (mr.state !== 'open' || mr.draft) throw new FakeHttpError(405, { message: '405 Method Not Allowed' })
    if (mr.readiness === 'conflict') throw new FakeHttpError(406, { message: 'Branch cannot be merged' })
    if (mr.readiness !== 'ready') throw new FakeHttpError(405, { message: '405 Method Not Allowed' })
    if (body.sha !== undefined && body.sha !== mr.headSHA) {
      throw new FakeHttpError(409, { message: 'SHA does not match HEAD of source branch: ' + mr.headSHA })
    }
    try {
      await store.merge(repo, mr, body.squash ? 'squash' : 'merge')
    } catch (error) {
      if (error instanceof MergeFailure) throw new FakeHttpError(406, { message: 'Branch cannot be merged' })
      throw error
    }
    return { status: 200, body: mrJSON(repo, mr) }
  }

  return host.listen('/api/v4', route)
}

/** GitLab's `detailed_merge_status` for a merge request. */
function detailedMergeStatus(mr: FakePull): string {
  if (mr.state !== 'open') return 'not_open'
  if (mr.draft) return 'draft_status'
  switch (mr.readiness) {
    case 'ready':
      return 'mergeable'
    case 'pending':
      return 'ci_still_running'
    case 'blocked':
      return 'not_approved'
    case 'conflict':
      return 'conflict'
  }
}

function authenticate(request: FakeRequest, token: string): void {
  const header = request.headers['private-token']
  const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.authorization ?? '')?.[1]
  const given = typeof header === 'string' ? header : bearer
  if (given !== token) throw new FakeHttpError(401, { message: '401 Unauthorized' })
}

const rejectBody: BodyRejections = {
  notJSON: () => new FakeHttpError(400, { error: 'The provided content-type is not supported.' }),
  invalid(issues, raw) {
    // Grape names every failing parameter: "source_branch is missing, title is empty".
    const problems = issues.map((issue) => {
      const field = issue.path.join('.')
      if (valueAt(raw, issue.path) === undefined) return `${field} is missing`
      if (issue.code === 'too_small') return `${field} is empty`
      return `${field} is invalid`
    })
    return new FakeHttpError(400, { error: problems.join(', ') })
  },
}
