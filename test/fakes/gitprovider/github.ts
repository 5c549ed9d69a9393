import { createHash } from 'node:crypto'
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
import { gitDataRoutes, GITHUB_FAKE_USER, githubError } from './github-git.js'

/*
 * A contract fake of GitHub's REST API (as served by GitHub Enterprise Server under `/api/v3`) for the pull request
 * routes Tugboat uses: list, create, get and merge pull requests, and add labels to one. Bodies are validated as
 * GitHub does (422 "Validation Failed" / "Invalid request"), a bad token is a 401 "Bad credentials", an unknown
 * repository or PR a 404 "Not Found". Mergeability shows in `mergeable` / `mergeable_state` as on GitHub, and the
 * merge endpoint refuses with 405 what GitHub refuses. Backed by a git server, it also serves the Git Data and compare
 * routes (`github-git.ts`).
 */

const DOCS = 'https://docs.github.com/rest'

const CreateSchema = z.object({
  title: z.string().optional(),
  head: z.string(),
  base: z.string(),
  body: z.string().nullish(),
  head_repo: z.string().optional(),
  maintainer_can_modify: z.boolean().optional(),
  draft: z.boolean().optional(),
  issue: z.number().int().optional(),
})

const MergeSchema = z.object({
  commit_title: z.string().optional(),
  commit_message: z.string().optional(),
  sha: z.string().optional(),
  merge_method: z.enum(['merge', 'squash', 'rebase']).optional(),
})

const LabelsSchema = z.union([
  z.object({ labels: z.array(z.string().min(1)).min(1) }),
  z.array(z.string().min(1)).min(1),
])

/** Starts a fake GitHub API on 127.0.0.1: API under `/api/v3`, git proxied to `opts.git` when given. */
export async function startGitHubFake(opts: FakeProviderOptions = {}): Promise<FakeGitProvider> {
  const host = fakeHost(opts)
  const { token, store } = host

  const api = () => `${host.url}/api/v3`
  const user = { login: GITHUB_FAKE_USER.login, id: GITHUB_FAKE_USER.id, type: 'User', site_admin: false }

  function repoJSON(repo: RepoState) {
    const [owner = '', name = ''] = repo.name.split('/')
    return {
      id: 1,
      name,
      full_name: repo.name,
      private: true,
      owner: { login: owner, id: 2, type: 'Organization' },
      html_url: `${host.url}/${repo.name}`,
      url: `${api()}/repos/${repo.name}`,
      default_branch: 'main',
    }
  }

  function labelJSON(repo: RepoState, name: string) {
    return {
      id: store.label(repo, name),
      node_id: `LA_${name}`,
      url: `${api()}/repos/${repo.name}/labels/${encodeURIComponent(name)}`,
      name,
      color: 'ededed',
      default: false,
      description: null,
    }
  }

  function pullJSON(repo: RepoState, pull: FakePull, detailed: boolean) {
    const owner = repo.name.split('/')[0] ?? ''
    const state = mergeableState(pull)
    // On an open PR GitHub reports the SHA of a throw-away test merge here.
    const mergeCommit = pull.merged
      ? pull.mergeCommitSHA
      : pull.state === 'open'
        ? createHash('sha1').update(`test-merge:${pull.id}:${pull.headSHA}`).digest('hex')
        : null
    const json: Record<string, unknown> = {
      url: `${api()}/repos/${repo.name}/pulls/${pull.number}`,
      id: pull.id,
      node_id: `PR_${pull.id}`,
      html_url: `${host.url}/${repo.name}/pull/${pull.number}`,
      diff_url: `${host.url}/${repo.name}/pull/${pull.number}.diff`,
      patch_url: `${host.url}/${repo.name}/pull/${pull.number}.patch`,
      issue_url: `${api()}/repos/${repo.name}/issues/${pull.number}`,
      number: pull.number,
      state: pull.state,
      locked: false,
      title: pull.title,
      user,
      body: pull.body === '' ? null : pull.body,
      labels: pull.labels.map((l) => labelJSON(repo, l)),
      created_at: pull.createdAt,
      updated_at: pull.updatedAt,
      closed_at: pull.closedAt ?? null,
      merged_at: pull.mergedAt ?? null,
      merge_commit_sha: mergeCommit,
      draft: pull.draft,
      head: { label: `${owner}:${pull.head}`, ref: pull.head, sha: pull.headSHA, user, repo: repoJSON(repo) },
      base: { label: `${owner}:${pull.base}`, ref: pull.base, sha: pull.baseSHA, user, repo: repoJSON(repo) },
      author_association: 'MEMBER',
      auto_merge: null,
    }
    if (detailed) {
      Object.assign(json, {
        merged: pull.merged,
        mergeable: pull.state !== 'open' ? null : state === 'unknown' ? null : state !== 'dirty',
        rebaseable: pull.state === 'open' && state !== 'dirty',
        mergeable_state: state,
        merged_by: pull.merged ? user : null,
        comments: 0,
        commits: 1,
        additions: 1,
        deletions: 0,
        changed_files: 1,
      })
    }
    return json
  }

  function findRepo(owner: string, name: string): RepoState {
    const repo = store.repo(`${owner}/${name}`)
    if (!repo) throw notFound()
    return repo
  }

  function findPull(repo: RepoState, number: string): FakePull {
    const pull = store.pull(repo, Number(number))
    if (!pull) throw notFound()
    return pull
  }

  const gitData = gitDataRoutes({ git: opts.git, api, web: () => host.url, findRepo })

  async function route(request: FakeRequest, path: string): Promise<Reply> {
    authenticate(request, token)
    const data = await gitData(request, path)
    if (data) return data
    const m = (re: RegExp) => re.exec(path)
    let match: RegExpExecArray | null
    if ((match = m(/^\/repos\/([^/]+)\/([^/]+)\/pulls$/))) {
      const repo = findRepo(dec(match[1]), dec(match[2]))
      await store.refresh(repo)
      if (request.method === 'GET') return listPulls(repo, request)
      if (request.method === 'POST') return createPull(repo, request)
    } else if ((match = m(/^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/))) {
      const repo = findRepo(dec(match[1]), dec(match[2]))
      await store.refresh(repo)
      const pull = findPull(repo, match[3]!)
      if (request.method === 'GET') return { status: 200, body: pullJSON(repo, pull, true) }
    } else if ((match = m(/^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)\/merge$/))) {
      const repo = findRepo(dec(match[1]), dec(match[2]))
      await store.refresh(repo)
      const pull = findPull(repo, match[3]!)
      if (request.method === 'PUT') return mergePull(repo, pull, request)
      if (request.method === 'GET') return { status: pull.merged ? 204 : 404 }
    } else if ((match = m(/^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/labels$/))) {
      const repo = findRepo(dec(match[1]), dec(match[2]))
      const pull = findPull(repo, match[3]!)
      if (request.method === 'POST') {
        const body = parseBody(LabelsSchema, request, rejectBody)
        for (const label of Array.isArray(body) ? body : body.labels) {
          if (!pull.labels.includes(label)) pull.labels.push(label)
        }
        return { status: 200, body: pull.labels.map((l) => labelJSON(repo, l)) }
      }
    }
    throw notFound()
  }

  function listPulls(repo: RepoState, request: FakeRequest): Reply {
    const state = request.query.get('state') ?? 'open'
    if (!['open', 'closed', 'all'].includes(state)) {
      throw validationFailed([{ value: state, resource: 'Issue', field: 'state', code: 'invalid' }])
    }
    const head = request.query.get('head')
    const baseBranch = request.query.get('base')
    let pulls = repo.pulls.filter((p) => state === 'all' || p.state === state)
    // GitHub filters on head only in the `user:ref` form; a bare branch name is ignored.
    if (head?.includes(':')) {
      const [owner, ...ref] = head.split(':')
      pulls = pulls.filter((p) => owner === repo.name.split('/')[0] && p.head === ref.join(':'))
    }
    if (baseBranch) pulls = pulls.filter((p) => p.base === baseBranch)
    pulls = [...pulls].sort((a, b) => b.number - a.number)
    const { page, headers } = paginate(pulls, request, host.url, {
      sizeParam: 'per_page',
      defaultSize: 30,
      maxSize: 100,
    })
    return { status: 200, headers, body: page.map((p) => pullJSON(repo, p, false)) }
  }

  async function createPull(repo: RepoState, request: FakeRequest): Promise<Reply> {
    const body = parseBody(CreateSchema, request, rejectBody)
    if (body.title === undefined && body.issue === undefined) throw invalid('"title" wasn\'t supplied.')
    const headRef = body.head.includes(':') ? body.head.split(':').slice(1).join(':') : body.head
    const headSHA = await store.branchSHA(repo, headRef)
    const baseSHA = await store.branchSHA(repo, body.base)
    const fieldErrors = [
      ...(headSHA ? [] : [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]),
      ...(baseSHA ? [] : [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]),
    ]
    if (fieldErrors.length > 0) throw validationFailed(fieldErrors)
    const owner = repo.name.split('/')[0] ?? ''
    if (repo.pulls.some((p) => p.state === 'open' && p.head === headRef && p.base === body.base)) {
      throw validationFailed([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `A pull request already exists for ${owner}:${headRef}.`,
        },
      ])
    }
    if (headSHA === baseSHA || (await baseContains(repo, baseSHA!, headSHA!))) {
      throw validationFailed([
        {
          resource: 'PullRequest',
          code: 'custom',
          message: `No commits between ${body.base} and ${headRef}`,
        },
      ])
    }
    const pull = store.newPull(repo, {
      head: headRef,
      base: body.base,
      headSHA: headSHA!,
      baseSHA: baseSHA!,
      title: body.title ?? `Issue #${body.issue}`,
      body: body.body ?? '',
      ...(body.draft !== undefined ? { draft: body.draft } : {}),
    })
    return {
      status: 201,
      headers: { location: `${api()}/repos/${repo.name}/pulls/${pull.number}` },
      body: pullJSON(repo, pull, true),
    }
  }

  /** True when `base` already holds `head` (GitHub's "No commits between"). */
  async function baseContains(repo: RepoState, baseSHA: string, headSHA: string): Promise<boolean> {
    if (!opts.git) return false
    try {
      await opts.git.git(repo.name, ['merge-base', '--is-ancestor', headSHA, baseSHA])
      return true
    } catch {
      return false
    }
  }

  async function mergePull(repo: RepoState, pull: FakePull, request: FakeRequest): Promise<Reply> {
    const body = parseBody(MergeSchema, request, rejectBody)
    const notMergeable = (message: string) => githubError(405, message, DOCS)
    if (pull.state !== 'open') throw notMergeable('Pull Request is not mergeable')
    if (pull.draft) throw notMergeable('Pull Request is still a draft')
    if (pull.readiness === 'blocked') {
      throw notMergeable('At least 1 approving review is required by reviewers with write access.')
    }
    if (pull.readiness !== 'ready') throw notMergeable('Pull Request is not mergeable')
    if (body.sha !== undefined && body.sha !== pull.headSHA) {
      throw githubError(409, 'Head branch was modified. Review and try the merge again.', DOCS)
    }
    const style: MergeStyle = body.merge_method ?? 'merge'
    try {
      const sha = await store.merge(repo, pull, style)
      return { status: 200, body: { sha, merged: true, message: 'Pull Request successfully merged' } }
    } catch (error) {
      if (error instanceof MergeFailure) throw notMergeable('Pull Request is not mergeable')
      throw error
    }
  }

  return host.listen('/api/v3', route)
}

/** GitHub's `mergeable_state` for a pull request. */
function mergeableState(pull: FakePull): string {
  if (pull.state !== 'open') return 'unknown'
  if (pull.draft) return 'draft'
  switch (pull.readiness) {
    case 'ready':
      return 'clean'
    case 'pending':
      return 'unknown'
    case 'blocked':
      return 'blocked'
    case 'conflict':
      return 'dirty'
  }
}

function authenticate(request: FakeRequest, token: string): void {
  const header = request.headers.authorization
  if (!header) {
    throw githubError(401, 'Requires authentication', DOCS)
  }
  const match = /^(?:Bearer|token)\s+(.+)$/i.exec(header)
  if (!match || match[1] !== token) {
    throw githubError(401, 'Bad credentials', DOCS)
  }
}

function notFound(): FakeHttpError {
  return githubError(404, 'Not Found', DOCS)
}

function invalid(detail: string): FakeHttpError {
  return githubError(422, `Invalid request.\n\n${detail}`, DOCS)
}

function validationFailed(errors: Array<Record<string, string>>): FakeHttpError {
  return githubError(422, 'Validation Failed', DOCS, { errors })
}

const rejectBody: BodyRejections = {
  notJSON: () => githubError(400, 'Problems parsing JSON', DOCS),
  invalid(issues, raw) {
    const issue = issues[0]
    const field = issue?.path.join('.') ?? ''
    const value = valueAt(raw, issue?.path ?? [])
    if (value === undefined) return invalid(`"${field}" wasn't supplied.`)
    return invalid(`For 'properties/${field}', ${JSON.stringify(value)} is not valid (${issue?.message}).`)
  },
}

function dec(part: string | undefined): string {
  return decodeURIComponent(part ?? '')
}
