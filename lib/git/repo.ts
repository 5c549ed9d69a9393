import fs from 'node:fs'
import path from 'node:path'
import git, { type HttpClient } from 'isomorphic-git'
import { TerminalError } from '../errors.js'
import { anonymous, type GitAuth } from './auth.js'
import { errorCode, toGitError } from './errors.js'
import { redact } from './redact.js'
import { gitHttpClient } from './http.js'
import { discover, fetchPack } from './fetch.js'
import { ObjectStore, type FlatTree } from './objects.js'

/** The identity commits are made with (Kargo's default is `Kargo <no-reply@kargo.io>`). */
export interface GitUser {
  name: string
  email: string
}

export const DEFAULT_GIT_USER: GitUser = { name: 'Kargo', email: 'no-reply@kargo.io' }

/** A local repository with a working tree, as `git-clone` leaves it. */
export interface LocalRepo {
  /** The root of the working tree. */
  dir: string
  /** The directory the step named, relative to `dir` ('' when it is the root). */
  scope: string
  gitdir: string
  store: ObjectStore
  /** `remote.origin.url` */
  url: string
  insecureSkipTLSVerify: boolean
  /** Cone directories of a sparse checkout. */
  sparse: string[] | undefined
  user: GitUser
}

/** Where HEAD points: a branch (and its commit), or a detached commit. */
export interface HeadState {
  branch: string | undefined
  oid: string
}

/**
 * Opens the working tree holding `target`: `target` itself or, when `workDir` is given, its nearest ancestor inside
 * the workspace with a `.git` (a step may name a subdirectory, as with the git CLI). A TerminalError when none is.
 */
export async function openRepo(target: string, label: string, workDir?: string): Promise<LocalRepo> {
  const root = workDir ? path.resolve(workDir) : undefined
  let dir = path.resolve(target)
  while (!fs.existsSync(path.join(dir, '.git', 'HEAD'))) {
    const parent = path.dirname(dir)
    if (!root || dir === root || parent === dir || !parent.startsWith(root)) {
      throw new TerminalError(`${label} is not inside a git working tree (was it cloned by git-clone?)`, {
        data: { path: label },
      })
    }
    dir = parent
  }
  const gitdir = path.join(dir, '.git')
  const scope = path.relative(dir, path.resolve(target)).split(path.sep).join('/')
  const get = async (key: string): Promise<string | undefined> => {
    const value: unknown = await git.getConfig({ fs, dir, path: key })
    return typeof value === 'string' ? value : undefined
  }
  const sparseValues: unknown[] = await git.getConfigAll({ fs, dir, path: 'tugboat.sparse' })
  const sparse = sparseValues.filter((v): v is string => typeof v === 'string')
  return {
    dir,
    scope,
    gitdir,
    store: new ObjectStore(gitdir),
    url: (await get('remote.origin.url')) ?? '',
    insecureSkipTLSVerify: (await get('http.sslVerify')) === 'false',
    sparse: sparse.length > 0 ? sparse : undefined,
    user: {
      name: (await get('user.name')) ?? DEFAULT_GIT_USER.name,
      email: (await get('user.email')) ?? DEFAULT_GIT_USER.email,
    },
  }
}

/** The branch HEAD points at (if any) and its commit. */
export async function readHead(dir: string): Promise<HeadState> {
  const branch = await git.currentBranch({ fs, dir, fullname: false })
  const oid = await git.resolveRef({ fs, dir, ref: 'HEAD' })
  return { branch: branch ?? undefined, oid }
}

/** Moves the current branch (or a detached HEAD) to `oid`. */
export async function moveHead(repo: LocalRepo, head: HeadState, oid: string): Promise<void> {
  if (head.branch)
    await git.writeRef({ fs, dir: repo.dir, ref: `refs/heads/${head.branch}`, value: oid, force: true })
  else await git.writeRef({ fs, dir: repo.dir, ref: 'HEAD', value: oid, force: true, symbolic: false })
}

/** The files of a commit. */
export function commitTree(repo: LocalRepo, commit: string): FlatTree {
  return repo.store.flatten(repo.store.readCommit(commit).tree)
}

/** A remote to fetch from or push to, with its HTTP client and credentials. */
export interface Remote {
  url: string
  http: HttpClient
  auth: GitAuth
}

export function remoteFor(url: string, auth: GitAuth = anonymous, insecureSkipTLSVerify = false): Remote {
  if (!/^https?:\/\//i.test(url)) {
    throw new TerminalError(
      `only http(s) git URLs are supported, not ${url.replace(/\/\/[^@/]*@/, '//***@')}`,
    )
  }
  return { url, http: gitHttpClient({ insecureSkipTLSVerify }), auth }
}

export interface FetchOptions {
  /** A branch, tag, full ref or full commit SHA; the remote's HEAD when omitted. */
  ref?: string
  depth?: number
  /** Deepen an existing shallow history by `depth` instead of cutting it at `depth`. */
  relative?: boolean
  /** Fetch only `ref` (default true); `false` fetches every branch and tag. */
  singleBranch?: boolean
}

export interface FetchResult {
  /** The fetched commit (or tag object), `undefined` when the ref does not exist or the remote is empty. */
  oid: string | undefined
  /** The remote's default branch, e.g. `refs/heads/main` (when fetching its HEAD). */
  defaultBranch: string | undefined
}

/**
 * Fetches from `remote` into `repo` (one ref discovery, then one pack request unless every wanted object is already
 * here), updating `refs/remotes/origin/*`, fetched tags and the shallow file. A missing ref yields `oid: undefined`.
 */
export async function fetchRemote(
  repo: LocalRepo,
  remote: Remote,
  opts: FetchOptions = {},
): Promise<FetchResult> {
  const adv = await discover(remote)
  const updates = new Map<string, string>()
  let oid: string | undefined
  let defaultBranch: string | undefined
  if (opts.singleBranch === false) {
    for (const [ref, value] of adv.refs) {
      if (ref.endsWith('^{}')) continue
      if (ref.startsWith('refs/heads/')) updates.set(`refs/remotes/origin/${ref.slice(11)}`, value)
      else if (ref.startsWith('refs/tags/')) updates.set(ref, value)
    }
  } else if (opts.ref === undefined) {
    oid = adv.refs.get('HEAD')
    if (oid === undefined) return { oid: undefined, defaultBranch: undefined }
    defaultBranch =
      adv.head ?? [...adv.refs].find(([ref, value]) => ref.startsWith('refs/heads/') && value === oid)?.[0]
    if (defaultBranch?.startsWith('refs/heads/'))
      updates.set(`refs/remotes/origin/${defaultBranch.slice(11)}`, oid)
  } else if (/^[0-9a-f]{40}$/.test(opts.ref)) {
    oid = opts.ref
  } else {
    const candidates = opts.ref.startsWith('refs/')
      ? [opts.ref]
      : [`refs/heads/${opts.ref}`, `refs/tags/${opts.ref}`, `refs/${opts.ref}`]
    const full = candidates.find((c) => adv.refs.has(c))
    oid = full ? adv.refs.get(full) : undefined
    if (!full || oid === undefined) return { oid: undefined, defaultBranch: undefined }
    if (full.startsWith('refs/heads/')) updates.set(`refs/remotes/origin/${full.slice(11)}`, oid)
  }
  const wanted = oid !== undefined ? [oid] : [...updates.values()]
  // Objects we hold need no fetch, unless the point is to deepen their history.
  const wants = opts.relative ? wanted : wanted.filter((w) => !repo.store.has(w))
  if (wants.length > 0) {
    const shallow = shallowSet(repo)
    const result = await fetchPack(remote, adv, repo.store, {
      wants,
      depth: opts.depth,
      relative: opts.relative,
      haves: await localTips(repo),
      shallow: [...shallow],
    })
    for (const s of result.shallow) shallow.add(s)
    for (const s of result.unshallow) shallow.delete(s)
    writeShallow(repo, shallow)
  }
  for (const [ref, value] of updates) await git.writeRef({ fs, dir: repo.dir, ref, value, force: true })
  return { oid, defaultBranch }
}

/** Commits the shallow clone has no parents for (`.git/shallow`). */
export function shallowSet(repo: LocalRepo): Set<string> {
  try {
    return new Set(
      fs
        .readFileSync(path.join(repo.gitdir, 'shallow'), 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    )
  } catch {
    return new Set()
  }
}

function writeShallow(repo: LocalRepo, shallow: Set<string>): void {
  const file = path.join(repo.gitdir, 'shallow')
  if (shallow.size === 0) fs.rmSync(file, { force: true })
  else fs.writeFileSync(file, `${[...shallow].sort().join('\n')}\n`)
}

/** Commits at the tips of local branches and remote-tracking refs (the `have`s of a fetch). */
async function localTips(repo: LocalRepo): Promise<string[]> {
  const tips: string[] = []
  const refs = [
    ...(await git.listBranches({ fs, dir: repo.dir })).map((b) => `refs/heads/${b}`),
    ...(await git.listBranches({ fs, dir: repo.dir, remote: 'origin' })).map(
      (b) => `refs/remotes/origin/${b}`,
    ),
  ]
  for (const ref of refs) {
    try {
      const oid = await git.resolveRef({ fs, dir: repo.dir, ref })
      if (repo.store.has(oid)) tips.push(oid)
    } catch {
      // dangling ref
    }
  }
  return tips
}

export interface PushOutcome {
  ok: boolean
  /** Why the push was refused: `not-fast-forward`, `tag-exists`, or the server's message. */
  rejected?: string
}

/** Pushes local ref `localRef` (a full ref) to `remoteRef` on the remote. Rejections are returned, other errors thrown. */
export async function pushRef(
  dir: string,
  remote: Remote,
  localRef: string,
  remoteRef: string,
  force = false,
): Promise<PushOutcome> {
  try {
    await git.push({
      fs,
      http: remote.http,
      dir,
      url: remote.url,
      remote: 'origin',
      ref: localRef,
      remoteRef,
      force,
      headers: { ...remote.auth.headers },
    })
    return { ok: true }
  } catch (error) {
    const code = errorCode(error)
    if (code === 'PushRejectedError') {
      const data: unknown =
        typeof error === 'object' && error !== null ? Reflect.get(error, 'data') : undefined
      const reason: unknown =
        typeof data === 'object' && data !== null ? Reflect.get(data, 'reason') : undefined
      return { ok: false, rejected: typeof reason === 'string' ? reason : 'rejected' }
    }
    if (code === 'GitPushError') {
      const message = error instanceof Error ? error.message : 'rejected'
      return { ok: false, rejected: redact(message, remote.auth.secrets) }
    }
    throw toGitError(error, { action: 'pushing to', url: remote.url, secrets: remote.auth.secrets })
  }
}

export interface NewCommit {
  tree: string
  parents: string[]
  message: string
  author: GitUser
  committer?: GitUser
  /** Author time in seconds since the epoch (keeps a replayed commit's original time). */
  authorTimestamp?: number
  authorTimezoneOffset?: number
  /** Commit (and default author) time in seconds; a fixed time makes a replayed commit identical. Default: now. */
  timestamp?: number
}

/** Writes a commit object (no ref moves) and returns its SHA. The message is cleaned up as `git commit -m` does. */
export async function writeCommit(repo: LocalRepo, commit: NewCommit): Promise<string> {
  const now = commit.timestamp ?? Math.floor(Date.now() / 1000)
  const committer = commit.committer ?? commit.author
  return git.writeCommit({
    fs,
    dir: repo.dir,
    commit: {
      message: cleanupMessage(commit.message),
      tree: commit.tree,
      parent: commit.parents,
      author: {
        name: commit.author.name,
        email: commit.author.email,
        timestamp: commit.authorTimestamp ?? now,
        timezoneOffset: commit.authorTimezoneOffset ?? 0,
      },
      committer: { name: committer.name, email: committer.email, timestamp: now, timezoneOffset: 0 },
    },
  })
}

/** git's `whitespace` cleanup: no trailing spaces, no leading/trailing/repeated blank lines, one final newline. */
export function cleanupMessage(message: string): string {
  const lines = message
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
  const out: string[] = []
  for (const line of lines) {
    if (line === '' && (out.length === 0 || out[out.length - 1] === '')) continue
    out.push(line)
  }
  while (out.length > 0 && out[out.length - 1] === '') out.pop()
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}
