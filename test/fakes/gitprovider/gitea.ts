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
  type MergeStyle,
  type Reply,
  type RepoState,
} from './core.js'

/*
 * A contract fake of Gitea's REST API v1 pull request routes: list, create, get, merge, and the repository's labels
 * (pull requests take label ids). Binding errors are a 422 `{"message": "[Title]: Required"}`, a missing head branch
 * a 404, a duplicate open PR a 409, a bad token a 401. Mergeability is the boolean `mergeable`; merging a PR that is
 * not mergeable is a 405.
 */

const CreateSchema = z.object({
  head: z.string().min(1),
  base: z.string().min(1),
  title: z.string().min(1),
  body: z.string().optional(),
  assignee: z.string().optional(),
  assignees: z.array(z.string()).optional(),
  labels: z.array(z.number().int()).optional(),
  milestone: z.number().int().optional(),
  due_date: z.string().optional(),
})

const MergeSchema = z.object({
  Do: z.enum(['merge', 'rebase', 'rebase-merge', 'squash', 'fast-forward-only', 'manually-merged']),
  MergeTitleField: z.string().optional(),
  MergeMessageField: z.string().optional(),
  MergeCommitID: z.string().optional(),
  head_commit_id: z.string().optional(),
  force_merge: z.boolean().optional(),
  merge_when_checks_succeed: z.boolean().optional(),
  delete_branch_after_merge: z.boolean().optional(),
})

/** Starts a fake Gitea API on 127.0.0.1: API under `/api/v1`, git proxied to `opts.git` when given. */
export async function startGiteaFake(opts: FakeProviderOptions = {}): Promise<FakeGitProvider> {
  const host = fakeHost(opts)
  const { token, store } = host
  const swagger = () => `${host.url}/api/swagger`
  const user = {
    id: 1,
    login: 'tugboat-bot',
    full_name: 'Tugboat Bot',
    email: 'bot@example.com',
    username: 'tugboat-bot',
  }

  const fail = (status: number, message: string) => new FakeHttpError(status, { message, url: swagger() })

  function labelJSON(repo: RepoState, name: string) {
    return {
      id: store.label(repo, name),
      name,
      exclusive: false,
      is_archived: false,
      color: 'e11d21',
      description: '',
      url: `${host.url}/api/v1/repos/${repo.name}/labels/${store.label(repo, name)}`,
    }
  }

  function branchJSON(repo: RepoState, ref: string, sha: string) {
    const [owner = '', name = ''] = repo.name.split('/')
    return {
      label: ref,
      ref,
      sha,
      repo_id: 1,
      repo: {
        id: 1,
        owner: { id: 2, login: owner, username: owner },
        name,
        full_name: repo.name,
        private: true,
      },
    }
  }

  function pullJSON(repo: RepoState, pull: FakePull) {
    return {
      id: pull.id,
      url: `${host.url}/${repo.name}/pulls/${pull.number}`,
      number: pull.number,
      user,
      title: pull.title,
      body: pull.body,
      labels: pull.labels.map((l) => labelJSON(repo, l)),
      milestone: null,
      assignee: null,
      assignees: null,
      requested_reviewers: null,
      state: pull.state,
      draft: pull.draft,
      is_locked: false,
      comments: 0,
      additions: 1,
      deletions: 0,
      changed_files: 1,
      html_url: `${host.url}/${repo.name}/pulls/${pull.number}`,
      diff_url: `${host.url}/${repo.name}/pulls/${pull.number}.diff`,
      patch_url: `${host.url}/${repo.name}/pulls/${pull.number}.patch`,
      mergeable: pull.state === 'open' && !pull.draft && pull.readiness === 'ready',
      merged: pull.merged,
      merged_at: pull.mergedAt ?? null,
      merge_commit_sha: pull.merged ? (pull.mergeCommitSHA ?? null) : null,
      merged_by: pull.merged ? user : null,
      allow_maintainer_edit: false,
      base: branchJSON(repo, pull.base, pull.baseSHA),
      head: branchJSON(repo, pull.head, pull.headSHA),
      merge_base: pull.baseSHA,
      due_date: null,
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt ?? null,
      pin_order: 0,
    }
  }

  function findRepo(owner: string | undefined, name: string | undefined): RepoState {
    const repo = store.repo(`${decodeURIComponent(owner ?? '')}/${decodeURIComponent(name ?? '')}`)
    if (!repo) throw fail(404, "The target couldn't be found.")
    return repo
  }

  function findPull(repo: RepoState, index: string): FakePull {
    const pull = store.pull(repo, Number(index))
    if (!pull) throw fail(404, "The target couldn't be found.")
    return pull
  }

  async function route(request: FakeRequest, path: string): Promise<Reply> {
    authenticate(request)
    let match: RegExpExecArray | null
    if ((match = /^\/repos\/([^/]+)\/([^/]+)\/pulls$/.exec(path))) {
      const repo = findRepo(match[1], match[2])
      await store.refresh(repo)
      if (request.method === 'GET') return listPulls(repo, request)
      if (request.method === 'POST') return createPull(repo, request)
    } else if ((match = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/.exec(path))) {
      const repo = findRepo(match[1], match[2])
      await store.refresh(repo)
      const pull = findPull(repo, match[3]!)
      if (request.method === 'GET') return { status: 200, body: pullJSON(repo, pull) }
    } else if ((match = /^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/merge$/.exec(path))) {
      const repo = findRepo(match[1], match[2])
      await store.refresh(repo)
      const pull = findPull(repo, match[3]!)
      if (request.method === 'POST') return mergePull(repo, pull, request)
      if (request.method === 'GET') return { status: pull.merged ? 204 : 404 }
    } else if ((match = /^\/repos\/([^/]+)\/([^/]+)\/labels$/.exec(path))) {
      const repo = findRepo(match[1], match[2])
      if (request.method === 'GET') {
        const labels = [...repo.labels.keys()].map((name) => labelJSON(repo, name))
        const { page, headers } = paginate(labels, request, host.url, {
          sizeParam: 'limit',
          defaultSize: 30,
          maxSize: 50,
        })
        return { status: 200, headers, body: page }
      }
    } else {
      throw fail(404, 'not found')
    }
    throw fail(405, 'Method Not Allowed')
  }

  function authenticate(request: FakeRequest): void {
    const header = request.headers.authorization
    const given =
      /^(?:token|Bearer)\s+(.+)$/i.exec(header ?? '')?.[1] ??
      request.query.get('token') ??
      request.query.get('access_token') ??
      undefined
    if (given === undefined) throw fail(401, 'token is required')
    if (given !== token) throw fail(401, 'user does not exist [uid: 0, name: ]')
  }

  function listPulls(repo: RepoState, request: FakeRequest): Reply {
    const state = request.query.get('state') ?? 'open'
    if (!['open', 'closed', 'all'].includes(state)) throw fail(422, '[State]: In')
    const pulls = repo.pulls
      .filter((p) => state === 'all' || p.state === state)
      .sort((a, b) => b.number - a.number)
    const { page, headers } = paginate(pulls, request, host.url, {
      sizeParam: 'limit',
      defaultSize: 30,
      maxSize: 50,
    })
    return { status: 200, headers, body: page.map((p) => pullJSON(repo, p)) }
  }

  async function createPull(repo: RepoState, request: FakeRequest): Promise<Reply> {
    const body = parseBody(CreateSchema, request, rejectBody)
    const headSHA = await store.branchSHA(repo, body.head)
    const baseSHA = await store.branchSHA(repo, body.base)
    if (!headSHA || !baseSHA) throw fail(404, "The target couldn't be found.")
    const existing = repo.pulls.find(
      (p) => p.state === 'open' && p.head === body.head && p.base === body.base,
    )
    if (existing) {
      throw fail(
        409,
        `pull request already exists for these targets [id: ${existing.id}, issue_id: ${existing.id}, head_repo_id: 1, ` +
          `base_repo_id: 1, head_branch: ${body.head}, base_branch: ${body.base}]`,
      )
    }
    if (headSHA === baseSHA) throw fail(422, 'There are no changes between the head and the base')
    const names = new Map([...repo.labels].map(([name, id]) => [id, name]))
    const labels = (body.labels ?? []).map((id) => {
      const name = names.get(id)
      if (name === undefined) throw fail(422, `label does not exist [label_id: ${id}]`)
      return name
    })
    const pull = store.newPull(repo, {
      head: body.head,
      base: body.base,
      headSHA,
      baseSHA,
      title: body.title,
      body: body.body ?? '',
      draft: /^(wip:|\[wip\])/i.test(body.title),
    })
    pull.labels.push(...labels)
    return { status: 201, body: pullJSON(repo, pull) }
  }

  async function mergePull(repo: RepoState, pull: FakePull, request: FakeRequest): Promise<Reply> {
    const body = parseBody(MergeSchema, request, rejectBody)
    if (pull.merged) throw fail(405, 'PR already merged')
    if (pull.state !== 'open') throw fail(405, 'PR is closed')
    if (pull.draft) throw fail(405, 'The PR is a work in progress and cannot be merged')
    if (pull.readiness === 'blocked' || pull.readiness === 'pending') {
      throw fail(405, 'Not all required status checks successful')
    }
    if (pull.readiness === 'conflict') throw fail(405, 'Please try again later')
    if (body.head_commit_id !== undefined && body.head_commit_id !== pull.headSHA) {
      throw fail(409, 'head out of date')
    }
    const style: MergeStyle =
      body.Do === 'rebase' || body.Do === 'rebase-merge'
        ? 'rebase'
        : body.Do === 'manually-merged'
          ? 'merge'
          : body.Do
    try {
      await store.merge(repo, pull, style)
    } catch (error) {
      if (error instanceof MergeFailure) throw fail(405, error.message)
      throw error
    }
    return { status: 200 }
  }

  const rejectBody: BodyRejections = {
    notJSON: () => fail(422, '[]: Unmarshal'),
    invalid(issues, raw) {
      // Gitea (go-chi binding) names the struct field: "[Title]: Required".
      const issue = issues[0]
      const key = String(issue?.path[0] ?? '')
      const field = key.charAt(0).toUpperCase() + key.slice(1)
      const rule =
        valueAt(raw, issue?.path ?? []) === undefined
          ? 'Required'
          : issue?.code === 'too_small'
            ? 'Required'
            : issue?.code === 'invalid_value'
              ? 'In'
              : 'Invalid'
      return fail(422, `[${field}]: ${rule}`)
    },
  }

  return host.listen('/api/v1', route)
}
