import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { z } from 'zod'
import type { GitServer } from '../../support/git-server.js'

/*
 * What the GitHub, GitLab and Gitea contract fakes share: repositories with branches and pull requests, the merge
 * itself, and an HTTP server that serves the provider's API under its prefix and, when backed by a git server,
 * proxies every other path to it (so one URL serves git and the API, as a self-hosted server does).
 */

/** How far a pull request is from mergeable; each fake shows it in its provider's own fields. */
export type Readiness = 'ready' | 'pending' | 'blocked' | 'conflict'

/** A merge style: GitHub/GitLab/Gitea names, normalised. */
export type MergeStyle = 'merge' | 'squash' | 'rebase' | 'fast-forward-only'

/** One pull request (merge request) held by a fake. */
export interface FakePull {
  /** Global id (GitHub/Gitea `id`, GitLab `id`). */
  id: number
  /** Per-repository number (GitLab `iid`). */
  number: number
  repo: string
  title: string
  body: string
  head: string
  base: string
  /** Source branch head when opened, kept current while open. */
  headSHA: string
  baseSHA: string
  state: 'open' | 'closed'
  merged: boolean
  mergeCommitSHA?: string
  labels: string[]
  draft: boolean
  readiness: Readiness
  createdAt: string
  updatedAt: string
  closedAt?: string
  mergedAt?: string
}

/** A request a fake received. */
export interface FakeRequest {
  method: string
  /** Raw path (percent-encoding kept). */
  path: string
  query: URLSearchParams
  headers: http.IncomingHttpHeaders
  body: string
}

export interface FakeRepoSeed {
  /** Branch → commit SHA, for fakes without a git server. */
  branches?: Record<string, string>
  /** Labels that exist in the repository (Gitea needs them to exist; GitHub/GitLab create them). */
  labels?: string[]
}

export interface FakeProviderOptions {
  /** The token the API accepts. Default `test-token`. */
  token?: string
  /**
   * Back the fake with a git server: branches are read from, and merges written to, its bare repository of the same
   * path (`owner/repo` → `<root>/owner/repo.git`), and non-API requests are proxied to it.
   */
  git?: GitServer
}

/** The controls every fake offers to tests. */
export interface FakeGitProvider {
  /** `http://127.0.0.1:PORT` */
  url: string
  /** The API root a client should use, e.g. `http://127.0.0.1:PORT/api/v3`. */
  apiBaseURL: string
  token: string
  /** Every API request received, in order. */
  requests: FakeRequest[]
  /** The clone URL of a repository on this host: `http://127.0.0.1:PORT/<repo>.git`. */
  repoURL(repo: string): string
  /** Makes `repo` known (unknown repositories answer 404). */
  addRepo(repo: string, seed?: FakeRepoSeed): void
  /** Moves (or creates) a branch of a repository without a git server. */
  setBranch(repo: string, branch: string, sha: string): void
  pulls(repo: string): FakePull[]
  pull(repo: string, number: number): FakePull
  /** Opens a pull request directly, as a user would in the web UI. */
  openPull(
    repo: string,
    opts: { head: string; base: string; title?: string; body?: string },
  ): Promise<FakePull>
  /** Merges a pull request as a user would; returns the commit now at the head of the base branch. */
  mergePull(repo: string, number: number, opts?: { style?: MergeStyle }): Promise<string>
  /** Closes a pull request without merging it. */
  closePull(repo: string, number: number): void
  /** Changes a pull request's mergeability or draft flag. */
  setPull(repo: string, number: number, patch: Partial<Pick<FakePull, 'readiness' | 'draft'>>): void
  close(): Promise<void>
}

export interface RepoState {
  name: string
  pulls: FakePull[]
  labels: Map<string, number>
  branches: Map<string, string>
}

/** A reply from a route. */
export interface Reply {
  status: number
  body?: unknown
  headers?: Record<string, string>
}

/** Thrown by a route to answer with an error status and body. */
export class FakeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}`)
  }
}

export class MergeFailure extends Error {}

/** The repositories, pull requests and git plumbing of one fake. */
export class FakeStore {
  readonly repos = new Map<string, RepoState>()
  private nextId = 1000
  constructor(readonly git: GitServer | undefined) {}

  addRepo(name: string, seed: FakeRepoSeed = {}): RepoState {
    const existing = this.repos.get(name)
    const state: RepoState = existing ?? { name, pulls: [], labels: new Map(), branches: new Map() }
    for (const [branch, sha] of Object.entries(seed.branches ?? {})) state.branches.set(branch, sha)
    for (const label of seed.labels ?? []) this.label(state, label)
    this.repos.set(name, state)
    return state
  }

  repo(name: string): RepoState | undefined {
    return this.repos.get(name)
  }

  mustRepo(name: string): RepoState {
    const repo = this.repos.get(name)
    if (!repo) throw new Error(`fake: unknown repository ${name}`)
    return repo
  }

  label(repo: RepoState, name: string): number {
    let id = repo.labels.get(name)
    if (id === undefined) {
      id = this.nextId++
      repo.labels.set(name, id)
    }
    return id
  }

  async branchSHA(repo: RepoState, branch: string): Promise<string | undefined> {
    if (this.git) return this.git.head(repo.name, branch)
    return repo.branches.get(branch)
  }

  /** Refreshes the head SHA of open pull requests (a push to the source branch moves the PR along). */
  async refresh(repo: RepoState): Promise<void> {
    for (const pull of repo.pulls) {
      if (pull.state !== 'open') continue
      const sha = await this.branchSHA(repo, pull.head)
      if (sha && sha !== pull.headSHA) {
        pull.headSHA = sha
        pull.updatedAt = now()
      }
    }
  }

  newPull(
    repo: RepoState,
    o: {
      head: string
      base: string
      headSHA: string
      baseSHA: string
      title: string
      body: string
      draft?: boolean
    },
  ): FakePull {
    const pull: FakePull = {
      id: this.nextId++,
      number: repo.pulls.length + 1,
      repo: repo.name,
      title: o.title,
      body: o.body,
      head: o.head,
      base: o.base,
      headSHA: o.headSHA,
      baseSHA: o.baseSHA,
      state: 'open',
      merged: false,
      labels: [],
      draft: o.draft ?? false,
      readiness: 'ready',
      createdAt: now(),
      updatedAt: now(),
    }
    repo.pulls.push(pull)
    return pull
  }

  pull(repo: RepoState, number: number): FakePull | undefined {
    return repo.pulls.find((p) => p.number === number)
  }

  /** Merges `pull` into its base (a real merge on the git server when there is one). Throws MergeFailure. */
  async merge(repo: RepoState, pull: FakePull, style: MergeStyle): Promise<string> {
    if (pull.state !== 'open') throw new MergeFailure('pull request is closed')
    const headSHA = (await this.branchSHA(repo, pull.head)) ?? pull.headSHA
    const baseSHA = await this.branchSHA(repo, pull.base)
    if (!baseSHA) throw new MergeFailure(`base branch ${pull.base} does not exist`)
    let result: string
    if (this.git) {
      result = await gitMerge(this.git, repo.name, pull, baseSHA, headSHA, style)
    } else if (style === 'fast-forward-only') {
      result = headSHA
      repo.branches.set(pull.base, result)
    } else {
      result = randomBytes(20).toString('hex')
      repo.branches.set(pull.base, result)
    }
    const at = now()
    Object.assign(pull, {
      state: 'closed',
      merged: true,
      mergeCommitSHA: result,
      headSHA,
      mergedAt: at,
      closedAt: at,
      updatedAt: at,
    })
    return result
  }

  closePull(pull: FakePull): void {
    const at = now()
    Object.assign(pull, { state: 'closed', closedAt: at, updatedAt: at })
  }
}

async function gitMerge(
  git: GitServer,
  repo: string,
  pull: FakePull,
  base: string,
  head: string,
  style: MergeStyle,
): Promise<string> {
  const env = {
    GIT_AUTHOR_NAME: 'Fake Provider',
    GIT_AUTHOR_EMAIL: 'noreply@example.com',
    GIT_COMMITTER_NAME: 'Fake Provider',
    GIT_COMMITTER_EMAIL: 'noreply@example.com',
  }
  let result: string
  if (style === 'fast-forward-only') {
    try {
      await git.git(repo, ['merge-base', '--is-ancestor', base, head])
    } catch {
      throw new MergeFailure('not possible to fast-forward')
    }
    result = head
  } else {
    let tree: string
    try {
      tree = (await git.git(repo, ['merge-tree', '--write-tree', base, head])).split('\n')[0]!.trim()
    } catch {
      throw new MergeFailure('merge conflict')
    }
    const message =
      style === 'merge'
        ? `Merge pull request #${pull.number} from ${pull.head}\n\n${pull.title}`
        : `${pull.title} (#${pull.number})`
    const parents = style === 'merge' ? ['-p', base, '-p', head] : ['-p', base]
    result = (await git.git(repo, ['commit-tree', tree, ...parents, '-m', message], env)).trim()
  }
  await git.git(repo, ['update-ref', `refs/heads/${pull.base}`, result, base])
  return result
}

/** Current time, as the providers print it (second precision, UTC). */
export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z')
}

interface ServeOptions {
  /** Paths under this prefix go to `route`, e.g. `/api/v3`. */
  apiPrefix: string
  route(request: FakeRequest, apiPath: string): Promise<Reply>
  git?: GitServer
  requests: FakeRequest[]
}

/** Starts the HTTP server of a fake on 127.0.0.1 and a random port. */
async function serve(opts: ServeOptions): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const raw = req.url ?? '/'
    const q = raw.indexOf('?')
    const rawPath = q >= 0 ? raw.slice(0, q) : raw
    if (rawPath !== opts.apiPrefix && !rawPath.startsWith(`${opts.apiPrefix}/`)) {
      if (opts.git) void proxy(opts.git, req, res)
      else send(res, { status: 404, body: { message: 'Not Found' } })
      return
    }
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const request: FakeRequest = {
        method: req.method ?? 'GET',
        path: rawPath,
        query: new URLSearchParams(q >= 0 ? raw.slice(q + 1) : ''),
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      }
      opts.requests.push(request)
      opts.route(request, rawPath.slice(opts.apiPrefix.length)).then(
        (reply) => send(res, reply),
        (error: unknown) => {
          if (error instanceof FakeHttpError) send(res, { status: error.status, body: error.body })
          else
            send(res, {
              status: 500,
              body: { message: error instanceof Error ? error.message : String(error) },
            })
        },
      )
    })
  })
  server.listen(0, '127.0.0.1')
  await new Promise<void>((resolve) => server.once('listening', () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function send(res: http.ServerResponse, reply: Reply): void {
  const headers: Record<string, string> = { ...reply.headers }
  if (reply.body === undefined) {
    res.writeHead(reply.status, headers)
    res.end()
    return
  }
  headers['content-type'] ??= 'application/json; charset=utf-8'
  res.writeHead(reply.status, headers)
  res.end(JSON.stringify(reply.body))
}

/** Forwards a git smart-HTTP request to the backing git server. */
function proxy(git: GitServer, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const target = new URL(req.url ?? '/', git.url)
    const upstream = http.request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
        answer.on('end', () => resolve())
      },
    )
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end(String(error))
      resolve()
    })
    req.pipe(upstream)
  })
}

/** Page `page` (1-based) of `items`, with a GitHub/Gitea style Link header pointing at the next and last pages. */
export function paginate<T>(
  items: T[],
  request: FakeRequest,
  baseURL: string,
  opts: { sizeParam: string; defaultSize: number; maxSize: number },
): { page: T[]; headers: Record<string, string> } {
  const size = Math.min(
    Number(request.query.get(opts.sizeParam) ?? opts.defaultSize) || opts.defaultSize,
    opts.maxSize,
  )
  const pageNo = Math.max(Number(request.query.get('page') ?? 1) || 1, 1)
  const page = items.slice((pageNo - 1) * size, pageNo * size)
  const last = Math.max(Math.ceil(items.length / size), 1)
  const link = (n: number, rel: string) => {
    const query = new URLSearchParams(request.query)
    query.set('page', String(n))
    return `<${baseURL}${request.path}?${query.toString()}>; rel="${rel}"`
  }
  const links: string[] = []
  if (pageNo < last) links.push(link(pageNo + 1, 'next'), link(last, 'last'))
  if (pageNo > 1) links.push(link(1, 'first'), link(pageNo - 1, 'prev'))
  const headers: Record<string, string> = { 'x-total-count': String(items.length) }
  if (links.length > 0) headers.link = links.join(', ')
  return { page, headers }
}

/** The value at `path` of a request body (`undefined` when absent): tells a missing field from a wrong one. */
export function valueAt(raw: unknown, path: PropertyKey[]): unknown {
  let current: unknown = raw
  for (const key of path) {
    if (typeof current !== 'object' || current === null) return undefined
    current = Reflect.get(current, key)
  }
  return current
}

/** How a provider answers a request body it cannot use. */
export interface BodyRejections {
  /** The body is not JSON. */
  notJSON(): FakeHttpError
  /** The body does not fit the route's schema (`raw` is the parsed JSON). */
  invalid(issues: readonly z.core.$ZodIssue[], raw: unknown): FakeHttpError
}

/** Parses a JSON request body (an empty one counts as `{}`) with `schema`, or throws the provider's rejection. */
export function parseBody<T>(schema: z.ZodType<T>, request: FakeRequest, reject: BodyRejections): T {
  const raw = request.body === '' ? {} : jsonBody(request)
  if (raw === undefined) throw reject.notJSON()
  const parsed = schema.safeParse(raw)
  if (parsed.success) return parsed.data
  throw reject.invalid(parsed.error.issues, raw)
}

/** Reads a JSON request body; `undefined` when it is not JSON. */
export function jsonBody(request: FakeRequest): unknown {
  if (request.body === '') return undefined
  try {
    const value: unknown = JSON.parse(request.body)
    return value
  } catch {
    return undefined
  }
}

/** What a fake's routes share: its token, its store, and its URL once it listens. */
export interface FakeHost {
  readonly token: string
  readonly store: FakeStore
  /** `http://127.0.0.1:PORT`; empty until {@link FakeHost.listen} resolves, which is before any route runs. */
  readonly url: string
  /** Serves `route` under `apiPrefix` (every other path goes to the git server, if any); returns the test controls. */
  listen(apiPrefix: string, route: ServeOptions['route']): Promise<FakeGitProvider>
}

/** The host of one fake, built before its routes so that they can close over it. */
export function fakeHost(opts: FakeProviderOptions): FakeHost {
  const store = new FakeStore(opts.git)
  const requests: FakeRequest[] = []
  const host = {
    token: opts.token ?? 'test-token',
    store,
    url: '',
    async listen(apiPrefix: string, route: ServeOptions['route']): Promise<FakeGitProvider> {
      const server = await serve({ apiPrefix, route, requests, ...(opts.git ? { git: opts.git } : {}) })
      host.url = server.url
      return controls(store, {
        url: server.url,
        apiBaseURL: `${server.url}${apiPrefix}`,
        token: host.token,
        requests,
        close: server.close,
        repoURL: (repo) => `${server.url}/${repo}.git`,
      })
    },
  }
  return host
}

/** The test controls shared by the three fakes. */
function controls(
  store: FakeStore,
  server: Pick<FakeGitProvider, 'url' | 'apiBaseURL' | 'token' | 'requests' | 'close' | 'repoURL'>,
): FakeGitProvider {
  const mustPull = (repo: string, number: number) => {
    const pull = store.pull(store.mustRepo(repo), number)
    if (!pull) throw new Error(`fake: ${repo} has no pull request #${number}`)
    return pull
  }
  return {
    ...server,
    addRepo: (repo, seed) => void store.addRepo(repo, seed),
    setBranch: (repo, branch, sha) => void store.mustRepo(repo).branches.set(branch, sha),
    pulls: (repo) => store.mustRepo(repo).pulls.map((p) => ({ ...p, labels: [...p.labels] })),
    pull: (repo, number) => ({ ...mustPull(repo, number) }),
    async openPull(repo, o) {
      const state = store.mustRepo(repo)
      const headSHA = await store.branchSHA(state, o.head)
      const baseSHA = await store.branchSHA(state, o.base)
      if (!headSHA || !baseSHA) throw new Error(`fake: ${repo} lacks branch ${headSHA ? o.base : o.head}`)
      return {
        ...store.newPull(state, {
          ...o,
          headSHA,
          baseSHA,
          title: o.title ?? `Merge ${o.head}`,
          body: o.body ?? '',
        }),
      }
    },
    mergePull: (repo, number, o) =>
      store.merge(store.mustRepo(repo), mustPull(repo, number), o?.style ?? 'merge'),
    closePull: (repo, number) => store.closePull(mustPull(repo, number)),
    setPull: (repo, number, patch) => void Object.assign(mustPull(repo, number), patch),
  }
}
