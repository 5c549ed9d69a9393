import fs from 'node:fs'
import path from 'node:path'
import git from 'isomorphic-git'
import { z } from 'zod'
import type { GitServer } from '../../support/git-server.js'
import { FakeHttpError, jsonBody, now, type FakeRequest, type Reply, type RepoState } from './core.js'

/*
 * GitHub's Git Data routes (refs and commits) and the compare route, on the real bare repository of the backing git
 * server: `GET git/ref/{ref}`, `POST git/refs`, `PATCH`/`DELETE git/refs/{ref}`, `POST git/commits`,
 * `GET git/commits/{sha}` and `GET compare/{base}...{head}`, with GitHub's shapes and statuses (404 for an unknown
 * ref, 422 for a ref that exists or does not, for a non-fast-forward update, for a missing tree or parent). A commit
 * created without author and committer is authored by the token's user, committed by `GitHub <noreply@github.com>`
 * and reported `verification.verified: true`, as GitHub signs it; one with an author is unsigned.
 */

const DOCS = 'https://docs.github.com/rest/git'
const ZERO = '0'.repeat(40)

/** The user the fake's token belongs to, and the identity GitHub gives the commits it authors for that user. */
export const GITHUB_FAKE_USER = {
  login: 'tugboat-bot',
  id: 1,
  name: 'tugboat-bot',
  email: '1+tugboat-bot@users.noreply.github.com',
}
const GITHUB_COMMITTER: { name: string; email: string; date?: string } = {
  name: 'GitHub',
  email: 'noreply@github.com',
}

const SignatureSchema = z.object({ name: z.string(), email: z.string(), date: z.string().optional() })
const CreateCommitSchema = z.object({
  message: z.string(),
  tree: z.string(),
  parents: z.array(z.string()).optional(),
  author: SignatureSchema.optional(),
  committer: SignatureSchema.optional(),
  signature: z.string().optional(),
})
const CreateRefSchema = z.object({ ref: z.string(), sha: z.string() })
const UpdateRefSchema = z.object({ sha: z.string(), force: z.boolean().optional() })

export interface GitDataOptions {
  git: GitServer | undefined
  /** API root, e.g. `http://127.0.0.1:PORT/api/v3`. */
  api(): string
  /** Web root, e.g. `http://127.0.0.1:PORT`. */
  web(): string
  findRepo(owner: string, name: string): RepoState
}

interface Verification {
  verified: boolean
  reason: string
  verified_at: string | null
}

/** The Git Data and compare routes; `undefined` for any other path. */
export function gitDataRoutes(
  opts: GitDataOptions,
): (request: FakeRequest, apiPath: string) => Promise<Reply | undefined> {
  const verifications = new Map<string, Verification>()

  function bare(repo: RepoState): { server: GitServer; gitdir: string } {
    if (!opts.git) throw new Error('fake: the Git Data routes need a git server')
    return { server: opts.git, gitdir: path.join(opts.git.root, `${repo.name}.git`) }
  }

  async function run(repo: RepoState, args: string[]): Promise<string | undefined> {
    try {
      return (await bare(repo).server.git(repo.name, args)).trim()
    } catch {
      return undefined
    }
  }

  const objectType = (repo: RepoState, sha: string) =>
    /^[0-9a-f]{40}$/.test(sha) ? run(repo, ['cat-file', '-t', sha]) : Promise.resolve(undefined)
  const resolveRef = (repo: RepoState, ref: string) => run(repo, ['rev-parse', '--verify', '--quiet', ref])

  async function readCommit(repo: RepoState, sha: string) {
    const raw = await run(repo, ['cat-file', 'commit', sha])
    if (raw === undefined) throw notFound()
    const split = raw.indexOf('\n\n')
    const headers = (split < 0 ? raw : raw.slice(0, split)).split('\n')
    // GitHub shows a message without git's final newline.
    const message = split < 0 ? '' : raw.slice(split + 2).replace(/\n$/, '')
    const get = (key: string) =>
      headers.filter((h) => h.startsWith(`${key} `)).map((h) => h.slice(key.length + 1))
    return {
      tree: get('tree')[0] ?? '',
      parents: get('parent'),
      author: signatureJSON(get('author')[0] ?? ''),
      committer: signatureJSON(get('committer')[0] ?? ''),
      message,
    }
  }

  function verification(repo: RepoState, sha: string): Verification {
    return (
      verifications.get(`${repo.name}:${sha}`) ?? { verified: false, reason: 'unsigned', verified_at: null }
    )
  }

  /** A commit as `git/commits` shows it. */
  async function gitCommitJSON(repo: RepoState, sha: string) {
    const c = await readCommit(repo, sha)
    const v = verification(repo, sha)
    return {
      sha,
      node_id: `C_${sha}`,
      url: `${opts.api()}/repos/${repo.name}/git/commits/${sha}`,
      html_url: `${opts.web()}/${repo.name}/commit/${sha}`,
      author: c.author,
      committer: c.committer,
      tree: { sha: c.tree, url: `${opts.api()}/repos/${repo.name}/git/trees/${c.tree}` },
      message: c.message,
      parents: c.parents.map((p) => parentJSON(repo, p)),
      verification: {
        ...v,
        signature: v.verified ? '-----BEGIN PGP SIGNATURE-----\n…' : null,
        payload: null,
      },
    }
  }

  /** A commit as `compare` (and `repos/commits`) shows it. */
  async function repoCommitJSON(repo: RepoState, sha: string) {
    const c = await gitCommitJSON(repo, sha)
    const byUser = (email: string) => (email === GITHUB_FAKE_USER.email ? userJSON() : null)
    return {
      sha,
      node_id: c.node_id,
      commit: {
        author: c.author,
        committer: c.committer,
        message: c.message,
        tree: c.tree,
        url: c.url,
        comment_count: 0,
        verification: c.verification,
      },
      url: `${opts.api()}/repos/${repo.name}/commits/${sha}`,
      html_url: c.html_url,
      comments_url: `${opts.api()}/repos/${repo.name}/commits/${sha}/comments`,
      author: byUser(c.author.email),
      committer: c.committer.email === GITHUB_COMMITTER.email ? { login: 'web-flow', id: 19864447 } : null,
      parents: c.parents,
    }
  }

  function parentJSON(repo: RepoState, sha: string) {
    return {
      sha,
      url: `${opts.api()}/repos/${repo.name}/commits/${sha}`,
      html_url: `${opts.web()}/${repo.name}/commit/${sha}`,
    }
  }

  async function refJSON(repo: RepoState, ref: string, sha: string) {
    const type = (await objectType(repo, sha)) ?? 'commit'
    return {
      ref,
      node_id: `REF_${Buffer.from(ref).toString('base64url')}`,
      url: `${opts.api()}/repos/${repo.name}/git/${ref}`,
      object: { sha, type, url: `${opts.api()}/repos/${repo.name}/git/${type}s/${sha}` },
    }
  }

  async function createCommit(repo: RepoState, request: FakeRequest): Promise<Reply> {
    const body = validate(CreateCommitSchema, request)
    if ((await objectType(repo, body.tree)) !== 'tree') throw unprocessable('Tree SHA does not exist')
    const parents = body.parents ?? []
    for (const parent of parents) {
      if ((await objectType(repo, parent)) !== 'commit')
        throw unprocessable('Parent SHA does not exist or is not a commit object')
    }
    // GitHub authors a bare commit as the token's user and signs it; given an identity, it neither signs nor
    // fills the committer in from anything but the author.
    const signed = body.author === undefined && body.committer === undefined
    const author = body.author ?? { name: GITHUB_FAKE_USER.name, email: GITHUB_FAKE_USER.email }
    const committer = body.committer ?? (body.author ? body.author : GITHUB_COMMITTER)
    const at = Math.floor(Date.now() / 1000)
    const sha = await git.writeCommit({
      fs,
      gitdir: bare(repo).gitdir,
      commit: {
        message: body.message.endsWith('\n') ? body.message : `${body.message}\n`,
        tree: body.tree,
        parent: parents,
        author: { name: author.name, email: author.email, ...gitTime(author.date, at) },
        committer: { name: committer.name, email: committer.email, ...gitTime(committer.date, at) },
      },
    })
    verifications.set(
      `${repo.name}:${sha}`,
      signed
        ? { verified: true, reason: 'valid', verified_at: now() }
        : { verified: false, reason: 'unsigned', verified_at: null },
    )
    return {
      status: 201,
      headers: { location: `${opts.api()}/repos/${repo.name}/git/commits/${sha}` },
      body: await gitCommitJSON(repo, sha),
    }
  }

  async function createRef(repo: RepoState, request: FakeRequest): Promise<Reply> {
    const body = validate(CreateRefSchema, request)
    if (!body.ref.startsWith('refs/') || body.ref.split('/').length < 3)
      throw unprocessable("Reference name must start with 'refs/' and have at least two slashes.")
    if ((await objectType(repo, body.sha)) === undefined) throw unprocessable('Object does not exist')
    if ((await resolveRef(repo, body.ref)) !== undefined) throw unprocessable('Reference already exists')
    if ((await run(repo, ['update-ref', body.ref, body.sha, ZERO])) === undefined)
      throw unprocessable('Reference already exists')
    return {
      status: 201,
      headers: { location: `${opts.api()}/repos/${repo.name}/git/${body.ref}` },
      body: await refJSON(repo, body.ref, body.sha),
    }
  }

  async function updateRef(repo: RepoState, ref: string, request: FakeRequest): Promise<Reply> {
    const body = validate(UpdateRefSchema, request)
    const old = await resolveRef(repo, ref)
    if (old === undefined) throw unprocessable('Reference does not exist')
    if ((await objectType(repo, body.sha)) === undefined) throw unprocessable('Object does not exist')
    if (!body.force && old !== body.sha) {
      const ancestor = await run(repo, ['merge-base', '--is-ancestor', old, body.sha])
      if (ancestor === undefined) throw unprocessable('Update is not a fast forward')
    }
    if ((await run(repo, ['update-ref', ref, body.sha, old])) === undefined)
      throw unprocessable('Reference update failed')
    return { status: 200, body: await refJSON(repo, ref, body.sha) }
  }

  async function deleteRef(repo: RepoState, ref: string): Promise<Reply> {
    const old = await resolveRef(repo, ref)
    if (old === undefined) throw unprocessable('Reference does not exist')
    if ((await run(repo, ['update-ref', '-d', ref, old])) === undefined)
      throw unprocessable('Reference update failed')
    return { status: 204 }
  }

  async function compare(repo: RepoState, basehead: string): Promise<Reply> {
    const dots = basehead.indexOf('...')
    if (dots < 0) throw notFound()
    const [baseName, headName] = [basehead.slice(0, dots), basehead.slice(dots + 3)]
    const base = await resolveRef(repo, `${baseName}^{commit}`)
    const head = await resolveRef(repo, `${headName}^{commit}`)
    if (!base || !head || baseName.startsWith('-') || headName.startsWith('-')) throw notFound()
    const mergeBase = await run(repo, ['merge-base', base, head])
    if (!mergeBase) {
      throw githubError(404, `No common ancestor between ${baseName} and ${headName}.`, DOCS)
    }
    const aheadBy = Number(await run(repo, ['rev-list', '--count', `${base}..${head}`]))
    const behindBy = Number(await run(repo, ['rev-list', '--count', `${head}..${base}`]))
    const listed = ((await run(repo, ['rev-list', '--reverse', '--topo-order', `${base}..${head}`])) ?? '')
      .split('\n')
      .filter((l) => l !== '')
      .slice(0, 250)
    const status =
      aheadBy > 0 && behindBy > 0 ? 'diverged' : aheadBy > 0 ? 'ahead' : behindBy > 0 ? 'behind' : 'identical'
    const files = ((await run(repo, ['diff', '--name-status', mergeBase, head])) ?? '')
      .split('\n')
      .filter((l) => l !== '')
      .map((line) => {
        const [code = 'M', filename = ''] = line.split('\t')
        const statusName = code.startsWith('A') ? 'added' : code.startsWith('D') ? 'removed' : 'modified'
        return { filename, status: statusName }
      })
    return {
      status: 200,
      body: {
        url: `${opts.api()}/repos/${repo.name}/compare/${basehead}`,
        html_url: `${opts.web()}/${repo.name}/compare/${basehead}`,
        permalink_url: `${opts.web()}/${repo.name}/compare/${base}...${head}`,
        diff_url: `${opts.web()}/${repo.name}/compare/${basehead}.diff`,
        patch_url: `${opts.web()}/${repo.name}/compare/${basehead}.patch`,
        base_commit: await repoCommitJSON(repo, base),
        merge_base_commit: await repoCommitJSON(repo, mergeBase),
        status,
        ahead_by: aheadBy,
        behind_by: behindBy,
        total_commits: aheadBy,
        commits: await Promise.all(listed.map((sha) => repoCommitJSON(repo, sha))),
        files,
      },
    }
  }

  return async (request, apiPath) => {
    const match = /^\/repos\/([^/]+)\/([^/]+)\/(git\/refs?|git\/commits|compare)(?:\/(.+))?$/.exec(apiPath)
    if (!match) return undefined
    const repo = opts.findRepo(dec(match[1]), dec(match[2]))
    const kind = match[3]
    const rest = match[4] === undefined ? undefined : match[4].split('/').map(dec).join('/')
    const method = request.method
    if (kind === 'git/ref' && rest !== undefined && method === 'GET') {
      const ref = `refs/${rest}`
      const sha = await resolveRef(repo, ref)
      if (sha === undefined) throw notFound()
      return { status: 200, body: await refJSON(repo, ref, sha) }
    }
    if (kind === 'git/refs' && rest === undefined && method === 'POST') return createRef(repo, request)
    if (kind === 'git/refs' && rest !== undefined && method === 'PATCH')
      return updateRef(repo, `refs/${rest}`, request)
    if (kind === 'git/refs' && rest !== undefined && method === 'DELETE')
      return deleteRef(repo, `refs/${rest}`)
    if (kind === 'git/commits' && rest === undefined && method === 'POST') return createCommit(repo, request)
    if (kind === 'git/commits' && rest !== undefined && method === 'GET') {
      if ((await objectType(repo, rest)) !== 'commit') throw notFound()
      return { status: 200, body: await gitCommitJSON(repo, rest) }
    }
    if (kind === 'compare' && rest !== undefined && method === 'GET') return compare(repo, rest)
    throw notFound()
  }
}

function userJSON() {
  return { login: GITHUB_FAKE_USER.login, id: GITHUB_FAKE_USER.id, type: 'User', site_admin: false }
}

/** `Name <email> 1700000000 +0100` → GitHub's `{name, email, date}` (dates in UTC). */
function signatureJSON(line: string): { name: string; email: string; date: string } {
  const m = /^(.*) <([^>]*)> (\d+) [+-]\d{4}$/.exec(line)
  if (!m) return { name: line, email: '', date: now() }
  return {
    name: m[1] ?? '',
    email: m[2] ?? '',
    date: new Date(Number(m[3]) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
  }
}

/** An ISO 8601 date (or now) as isomorphic-git's timestamp and timezoneOffset (minutes west of UTC). */
function gitTime(date: string | undefined, fallback: number): { timestamp: number; timezoneOffset: number } {
  if (date === undefined) return { timestamp: fallback, timezoneOffset: 0 }
  const ms = Date.parse(date)
  if (Number.isNaN(ms)) throw unprocessable(`Invalid date: ${date}`)
  const zone = /([+-])(\d\d):?(\d\d)$/.exec(date)
  const east = zone ? (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3])) : 0
  return { timestamp: Math.floor(ms / 1000), timezoneOffset: -east }
}

/** An error reply in GitHub's shape, `{message, documentation_url, status}`, with `extra` (e.g. `errors`). */
export function githubError(
  status: number,
  message: string,
  docs: string,
  extra: Record<string, unknown> = {},
): FakeHttpError {
  return new FakeHttpError(status, { message, ...extra, documentation_url: docs, status: String(status) })
}

function notFound(): FakeHttpError {
  return githubError(404, 'Not Found', DOCS)
}

function unprocessable(message: string): FakeHttpError {
  return githubError(422, message, DOCS)
}

function validate<T>(schema: z.ZodType<T>, request: FakeRequest): T {
  const raw = jsonBody(request)
  if (raw === undefined) {
    throw githubError(400, 'Problems parsing JSON', DOCS)
  }
  const parsed = schema.safeParse(raw)
  if (parsed.success) return parsed.data
  const field = parsed.error.issues[0]?.path.join('.') ?? ''
  throw githubError(
    422,
    `Invalid request.\n\nFor 'properties/${field}', ${JSON.stringify(raw)} is not valid.`,
    DOCS,
  )
}

function dec(part: string | undefined): string {
  return decodeURIComponent(part ?? '')
}
