import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import git, {
  type CommitObject,
  type GitHttpRequest,
  type GitHttpResponse,
  type HttpClient,
  type ServerRef,
} from 'isomorphic-git'
import { NotFoundError, TugboatError, UpstreamError, ValidationError } from '../errors.js'
import { compareBytewise } from '../model/go-compat.js'
import { tagFilter } from '../regex/re2.js'
import { selectSemver, sortLexicalDesc } from '../semver/index.js'
import { compilePathFilter } from './path-filter.js'
import { checkSemverConstraint, parseSubscriptionWith, rejectDeprecatedTagFilters } from './subscription.js'
import {
  GitSubscriptionSchema,
  type Credentials,
  type DiscoveredCommit,
  type GitDiscoveryResult,
  type GitObservedRefs,
  type GitSubscription,
  type GitSubscriptionInput,
} from './types.js'

/** Reported once per HTTP request sent to the git host. */
export interface GitRequestEvent {
  method: string
  url: string
  status?: number
}

export interface GitDiscoveryDeps {
  credentials?: Credentials
  /** The `refs` of the previous successful discovery; when the relevant refs still match, nothing is fetched. */
  lastSeenRefs?: Record<string, string>
  fetch?: typeof globalThis.fetch
  onRequest?: (event: GitRequestEvent) => void
  /** Per-request timeout (default 60 s). */
  timeoutMs?: number
}

const headsPrefix = 'refs/heads/'
const tagsPrefix = 'refs/tags/'
/** Above this many matching tags, refs are not recorded (Kargo's cap on `observedRefs.tags`). */
const maxObservedTags = 1000

/**
 * Discovers commits of a git repository over smart HTTP. It first lists the remote's refs (one request) and returns
 * `unchanged: true` without fetching when the refs relevant to the subscription equal `lastSeenRefs`; otherwise it
 * fetches only what selection needs (a shallow pack of the wanted tips, without blobs when the server allows filters)
 * into a temp dir, and walks it. `expressionFilter` is not supported (a non-empty one is a ValidationError).
 */
export async function discoverCommits(
  input: GitSubscriptionInput,
  deps: GitDiscoveryDeps = {},
): Promise<GitDiscoveryResult> {
  const sub = parseGitSubscription(input)
  const remote = remoteOf(sub.repoURL, deps.credentials)
  const stats = { requests: 0, fetches: 0 }
  const transport = new Transport(remote, deps, stats)
  const advertised = await transport.listRefs()
  const relevant = relevantRefs(sub, advertised.refs)
  const base = { repoURL: sub.repoURL, refs: relevant.refs, observedRefs: relevant.observed, stats }
  if (
    deps.lastSeenRefs &&
    Object.keys(relevant.refs).length > 0 &&
    sameRefs(relevant.refs, deps.lastSeenRefs)
  ) {
    return { ...base, unchanged: true, commits: [] }
  }
  if (relevant.candidates.length === 0) return { ...base, unchanged: false, commits: [] }
  const dir = await mkdtemp(join(tmpdir(), 'tugboat-git-discovery-'))
  try {
    const repo = new LocalRepo(dir, transport, advertised.capabilities)
    await repo.init()
    const commits =
      sub.commitSelectionStrategy === 'NewestFromBranch'
        ? await selectFromBranch(sub, repo, relevant.candidates[0] as Candidate)
        : await selectFromTags(sub, repo, relevant.candidates)
    return { ...base, unchanged: false, commits }
  } catch (error) {
    if (error instanceof TugboatError) throw error
    throw new UpstreamError(`discovering commits of ${remote.display} failed: ${messageOf(error)}`, {
      cause: error,
      data: { repoURL: sub.repoURL },
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** Parses and checks a git subscription as Kargo validates it before discovery. */
export function parseGitSubscription(input: GitSubscriptionInput): GitSubscription {
  const sub = parseSubscriptionWith(GitSubscriptionSchema, 'git', input)
  rejectDeprecatedTagFilters(sub)
  if ((sub.expressionFilter ?? '') !== '') {
    throw new ValidationError('expressionFilter is not supported by Tugboat yet', {
      path: 'expressionFilter',
    })
  }
  if (sub.semverConstraint) checkSemverConstraint(sub.semverConstraint, 'semverConstraint')
  if (!/^https?:\/\//i.test(sub.repoURL)) {
    throw new ValidationError('only http(s) git URLs are supported (SSH URLs are deprecated in Kargo)', {
      path: 'repoURL',
    })
  }
  return sub
}

// ---------------------------------------------------------------------------------------------------------------
// Which refs matter

interface Candidate {
  /** Full ref name. */
  ref: string
  /** Tag name, for tag strategies. */
  tag?: string
  /** Object the ref points at (a tag object for annotated tags). */
  oid: string
  /** The commit it resolves to, when the server said (peeled). */
  peeled?: string
}

interface Relevant {
  refs: Record<string, string>
  observed: GitObservedRefs
  /** In selection order for SemVer/Lexical; unordered for NewestTag; one entry for NewestFromBranch. */
  candidates: Candidate[]
}

function relevantRefs(sub: GitSubscription, advertised: ServerRef[]): Relevant {
  if (sub.commitSelectionStrategy === 'NewestFromBranch') {
    let ref: ServerRef | undefined
    if (sub.branch) {
      ref = advertised.find((r) => r.ref === headsPrefix + sub.branch)
      if (!ref) {
        throw new NotFoundError(
          `branch ${JSON.stringify(sub.branch)} not found in git repository ${sub.repoURL}`,
          {
            data: { repoURL: sub.repoURL, branch: sub.branch },
          },
        )
      }
    } else {
      // The default branch is whatever the remote's HEAD points at; Kargo records HEAD's commit the same way.
      const head = advertised.find((r) => r.ref === 'HEAD')
      ref =
        head ??
        advertised.find((r) => r.ref === 'refs/heads/main') ??
        advertised.find((r) => r.ref === 'refs/heads/master')
    }
    if (!ref) return { refs: {}, observed: {}, candidates: [] }
    return {
      refs: { [ref.ref]: ref.oid },
      observed: { branchHead: ref.oid },
      candidates: [{ ref: ref.ref, oid: ref.oid }],
    }
  }
  const allow = tagFilter({
    ...(sub.allowTagsRegexes ? { allowTagsRegexes: sub.allowTagsRegexes } : {}),
    ...(sub.ignoreTagsRegexes ? { ignoreTagsRegexes: sub.ignoreTagsRegexes } : {}),
  })
  const byName = new Map<string, Candidate>()
  for (const r of advertised) {
    if (!r.ref.startsWith(tagsPrefix) || r.ref.endsWith('^{}')) continue
    const tag = r.ref.slice(tagsPrefix.length)
    if (allow(tag))
      byName.set(tag, { ref: r.ref, tag, oid: r.oid, ...(r.peeled ? { peeled: r.peeled } : {}) })
  }
  let names = [...byName.keys()]
  if (sub.commitSelectionStrategy === 'SemVer') {
    names = selectSemver(names, {
      ...(sub.semverConstraint ? { constraint: sub.semverConstraint } : {}),
      strict: sub.strictSemvers,
    })
  } else if (sub.commitSelectionStrategy === 'Lexical') {
    names = sortLexicalDesc(names)
  }
  const candidates = names.map((n) => byName.get(n) as Candidate)
  if (candidates.length > maxObservedTags) {
    // As Kargo: too many to record, so no observation, and every poll fetches until the filters are tightened.
    return { refs: {}, observed: {}, candidates }
  }
  const sorted = [...candidates].sort((a, b) => compareBytewise(a.tag ?? '', b.tag ?? ''))
  const refs: Record<string, string> = {}
  for (const c of sorted) refs[c.ref] = c.oid
  return { refs, observed: { tags: sorted.map((c) => ({ name: c.tag ?? '', id: c.oid })) }, candidates }
}

function sameRefs(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => b[k] === a[k])
}

// ---------------------------------------------------------------------------------------------------------------
// Selection

/** The subscription's include/exclude path filter, or undefined when it has neither (every commit qualifies). */
function pathFilterOf(sub: GitSubscription): ((changedPaths: readonly string[]) => boolean) | undefined {
  const filtered = (sub.includePaths?.length ?? 0) > 0 || (sub.excludePaths?.length ?? 0) > 0
  return filtered
    ? compilePathFilter({
        ...(sub.includePaths ? { includePaths: sub.includePaths } : {}),
        ...(sub.excludePaths ? { excludePaths: sub.excludePaths } : {}),
      })
    : undefined
}

async function selectFromBranch(
  sub: GitSubscription,
  repo: LocalRepo,
  tip: Candidate,
): Promise<DiscoveredCommit[]> {
  const limit = sub.discoveryLimit
  const qualifies = pathFilterOf(sub)
  const filtered = qualifies !== undefined
  const sinceMs = sub.since ? Date.parse(sub.since) : undefined
  // Without path filters, `limit` commits are all that is needed; with them, each commit's parent too, and the
  // history is deepened until enough commits qualify.
  let depth: number | undefined = filtered ? limit + 1 : limit
  await repo.fetch([tip.oid], { depth, needTrees: filtered })
  const selected: DiscoveredCommit[] = []
  let oid: string | undefined = tip.oid
  while (oid !== undefined && selected.length < limit) {
    const commit = await repo.commit(oid)
    if (!commit) {
      // Reached the shallow boundary: fetch deeper and carry on from the same commit.
      if (depth === undefined) throw new Error(`commit ${oid} is missing after a full fetch`)
      depth = depth >= 2048 ? undefined : depth * 4
      await repo.fetch([tip.oid], { ...(depth !== undefined ? { depth } : {}), needTrees: filtered })
      continue
    }
    if (sinceMs !== undefined && commit.committer.timestamp * 1000 < sinceMs) break
    const parent = commit.parent[0]
    if (qualifies) {
      let parentTree: string | undefined
      if (parent !== undefined) {
        const parentCommit = await repo.commit(parent)
        if (!parentCommit) {
          if (depth === undefined) throw new Error(`commit ${parent} is missing after a full fetch`)
          depth = depth >= 2048 ? undefined : depth * 4
          await repo.fetch([tip.oid], { ...(depth !== undefined ? { depth } : {}), needTrees: true })
          continue
        }
        parentTree = parentCommit.tree
      }
      if (qualifies(await repo.changedPaths(commit.tree, parentTree))) {
        selected.push(toDiscovered(oid, commit, undefined, sub.branch))
      }
    } else {
      selected.push(toDiscovered(oid, commit, undefined, sub.branch))
    }
    oid = parent
  }
  return selected
}

interface TagInfo {
  candidate: Candidate
  commitOid: string
  commit: CommitObject
  creatorSec: number
}

async function selectFromTags(
  sub: GitSubscription,
  repo: LocalRepo,
  candidates: Candidate[],
): Promise<DiscoveredCommit[]> {
  const limit = sub.discoveryLimit
  const qualifies = pathFilterOf(sub)
  const filtered = qualifies !== undefined
  const fetchOptions = { depth: filtered ? 2 : 1, needTrees: filtered }
  let ordered: Candidate[]
  const infos = new Map<string, TagInfo | null>()
  if (sub.commitSelectionStrategy === 'NewestTag') {
    // Ordering by creator date needs every candidate's tag object or commit.
    await repo.fetch(uniq(candidates.map((c) => c.oid)), fetchOptions)
    for (const c of candidates) infos.set(c.ref, await repo.tagInfo(c))
    ordered = candidates
      .filter((c) => infos.get(c.ref))
      .sort((a, b) => {
        const x = infos.get(a.ref) as TagInfo
        const y = infos.get(b.ref) as TagInfo
        return y.creatorSec - x.creatorSec || compareBytewise(a.ref, b.ref)
      })
  } else {
    ordered = candidates
  }
  const selected: DiscoveredCommit[] = []
  let next = 0
  let batchSize = limit
  while (selected.length < limit && next < ordered.length) {
    const batch = ordered.slice(next, next + batchSize)
    next += batch.length
    const missing = batch.filter((c) => !infos.has(c.ref)).map((c) => c.oid)
    if (missing.length > 0) await repo.fetch(uniq(missing), fetchOptions)
    for (const c of batch) {
      if (selected.length >= limit) break
      let info = infos.get(c.ref)
      if (info === undefined) {
        info = await repo.tagInfo(c)
        infos.set(c.ref, info)
      }
      if (!info) continue // not a commit (a tag of a tree or blob)
      if (qualifies) {
        const parent = info.commit.parent[0]
        const parentTree = parent !== undefined ? (await repo.commit(parent))?.tree : undefined
        if (parent !== undefined && parentTree === undefined)
          throw new Error(`parent ${parent} of ${c.ref} was not fetched`)
        if (!qualifies(await repo.changedPaths(info.commit.tree, parentTree))) continue
      }
      selected.push(
        toDiscovered(info.commitOid, info.commit, { tag: c.tag ?? '', creatorSec: info.creatorSec }),
      )
    }
    // Path filters may reject many tags: widen the next batch.
    batchSize = Math.min(batchSize * 2, 500)
  }
  return selected
}

function toDiscovered(
  oid: string,
  commit: CommitObject,
  tag: { tag: string; creatorSec: number } | undefined,
  branch?: string,
): DiscoveredCommit {
  const subject = subjectOf(commit.message)
  return {
    id: oid,
    ...(branch ? { branch } : {}),
    ...(tag ? { tag: tag.tag } : {}),
    message: subject,
    subject: subject.length > 80 ? `${subject.slice(0, 77)}...` : subject,
    author: `${commit.author.name} <${commit.author.email}>`,
    committer: `${commit.committer.name} <${commit.committer.email}>`,
    creatorDate: rfc3339(tag ? tag.creatorSec : commit.committer.timestamp),
  }
}

/** Git's `%s`: the first paragraph of the message, its lines joined by spaces. */
function subjectOf(message: string): string {
  const paragraph = message.replace(/^\s*\n/, '').split(/\n[ \t]*\n/)[0] ?? ''
  return paragraph
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .join(' ')
}

function rfc3339(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace('.000Z', 'Z')
}

function uniq(values: string[]): string[] {
  return [...new Set(values)]
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

// ---------------------------------------------------------------------------------------------------------------
// Transport: ref advertisement via isomorphic-git, packs via one stateless upload-pack POST

interface Remote {
  url: string
  /** Host (and path) for messages, without credentials. */
  display: string
  host: string
  authorization?: string
}

function remoteOf(repoURL: string, credentials: Credentials | undefined): Remote {
  const url = new URL(repoURL)
  let authorization: string | undefined
  const user =
    credentials ??
    (url.username
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined)
  if (user) authorization = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`
  url.username = ''
  url.password = ''
  const clean = url.toString().replace(/\/+$/, '')
  return {
    url: clean,
    display: `${url.host}${url.pathname.replace(/\/+$/, '')}`,
    host: url.host,
    ...(authorization ? { authorization } : {}),
  }
}

interface FetchOptions {
  depth?: number
  /** Trees are needed (path filters); otherwise only commits and tags. */
  needTrees: boolean
}

class Transport {
  constructor(
    private readonly remote: Remote,
    private readonly deps: GitDiscoveryDeps,
    private readonly stats: { requests: number; fetches: number },
  ) {}

  /** The ref advertisement (protocol v1: one GET of info/refs): refs with symref targets and peeled tags, and capabilities. */
  async listRefs(): Promise<{ refs: ServerRef[]; capabilities: Set<string> }> {
    try {
      const info = await git.getRemoteInfo2({
        http: this.http(),
        url: this.remote.url,
        protocolVersion: 1,
        ...(this.remote.authorization ? { headers: { Authorization: this.remote.authorization } } : {}),
      })
      const capabilities = new Set(Object.keys(info.capabilities))
      return { refs: info.refs ?? [], capabilities }
    } catch (error) {
      throw this.error(error)
    }
  }

  /** POSTs one upload-pack request; returns the raw response body. */
  async uploadPack(body: Uint8Array): Promise<Uint8Array> {
    const url = `${this.remote.url}/git-upload-pack`
    const response = await this.send(url, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-git-upload-pack-request',
        Accept: 'application/x-git-upload-pack-result',
      },
      body,
    })
    const bytes = new Uint8Array(await response.arrayBuffer())
    if (!response.ok) throw this.statusError(response.status)
    this.stats.fetches++
    return bytes
  }

  private async send(
    url: string,
    init: { method: string; headers: Record<string, string>; body?: Uint8Array },
  ): Promise<Response> {
    const headers: Record<string, string> = { 'User-Agent': 'git/tugboat', ...init.headers }
    if (this.remote.authorization) headers.Authorization = this.remote.authorization
    let response: Response
    try {
      response = await (this.deps.fetch ?? globalThis.fetch)(url, {
        method: init.method,
        headers,
        ...(init.body ? { body: new Uint8Array(init.body) } : {}),
        redirect: 'follow',
        signal: AbortSignal.timeout(this.deps.timeoutMs ?? 60_000),
      })
    } catch (error) {
      this.stats.requests++
      this.deps.onRequest?.({ method: init.method, url })
      const cause = error instanceof Error ? (error.cause ?? error) : error
      const code = cause instanceof Error ? (cause as Error & { code?: unknown }).code : undefined
      throw new UpstreamError(
        `git host ${this.remote.host} is unreachable: ${typeof code === 'string' ? code : messageOf(cause)}`,
        { cause: error, data: { repoURL: this.remote.display } },
      )
    }
    this.stats.requests++
    this.deps.onRequest?.({ method: init.method, url, status: response.status })
    return response
  }

  /** An isomorphic-git HTTP client over `fetch`, counting requests. */
  private http(): HttpClient {
    return {
      request: async (request: GitHttpRequest): Promise<GitHttpResponse> => {
        let body: Uint8Array | undefined
        if (request.body) {
          const chunks: Uint8Array[] = []
          for await (const chunk of request.body) chunks.push(chunk)
          body = Buffer.concat(chunks)
        }
        const response = await this.send(request.url, {
          method: request.method ?? 'GET',
          headers: request.headers ?? {},
          ...(body ? { body } : {}),
        })
        const bytes = new Uint8Array(await response.arrayBuffer())
        const headers: Record<string, string> = {}
        response.headers.forEach((value, key) => {
          headers[key] = value
        })
        return {
          url: response.url || request.url,
          method: request.method ?? 'GET',
          statusCode: response.status,
          statusMessage: response.statusText,
          headers,
          body: (async function* () {
            yield bytes
          })(),
        }
      },
    }
  }

  private error(error: unknown): Error {
    if (error instanceof TugboatError) return error
    const status = statusOf(error)
    if (status !== undefined) return this.statusError(status, error)
    return new UpstreamError(`listing refs of ${this.remote.display} failed: ${messageOf(error)}`, {
      cause: error,
      data: { repoURL: this.remote.display },
    })
  }

  statusError(status: number, cause?: unknown): Error {
    const where = `from git host ${this.remote.host} for ${this.remote.display}`
    const data = { repoURL: this.remote.display }
    if (status === 401 || status === 403) {
      return new UpstreamError(`${status} ${where}: check git credentials`, {
        status,
        data,
        ...(cause ? { cause } : {}),
      })
    }
    if (status === 404)
      return new NotFoundError(`404 ${where}: repository not found`, {
        data: { ...data, status },
        ...(cause ? { cause } : {}),
      })
    return new UpstreamError(`${status} ${where}`, { status, data, ...(cause ? { cause } : {}) })
  }
}

function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'data' in error) {
    const data = (error as { data?: unknown }).data
    if (typeof data === 'object' && data !== null && 'statusCode' in data) {
      const code = (data as { statusCode?: unknown }).statusCode
      if (typeof code === 'number') return code
    }
  }
  return undefined
}

/** A scratch object store in a temp dir, filled by upload-pack and read with isomorphic-git. */
class LocalRepo {
  private readonly gitdir: string
  private readonly cache = {}
  private readonly treeCache = new Map<
    string,
    Array<{ path: string; oid: string; mode: string; type: string }>
  >()

  constructor(
    private readonly dir: string,
    private readonly transport: Transport,
    private readonly capabilities: Set<string>,
  ) {
    this.gitdir = join(dir, '.git')
  }

  async init(): Promise<void> {
    await git.init({ fs, dir: this.dir })
  }

  /** Fetches the given tips (with `deepen` when `depth` is set), leaving out blobs (and trees) when the server can filter. */
  async fetch(wants: string[], options: FetchOptions): Promise<void> {
    if (wants.length === 0) return
    const filter = this.capabilities.has('filter') ? (options.needTrees ? 'blob:none' : 'tree:0') : undefined
    const deepen = options.depth !== undefined && this.capabilities.has('shallow')
    const caps = ['multi_ack_detailed', 'side-band-64k', 'ofs-delta', 'no-progress', 'agent=git/tugboat']
    if (deepen) caps.push('shallow')
    if (filter) caps.push('filter')
    const lines: Array<string | null> = wants.map((oid, i) =>
      i === 0 ? `want ${oid} ${caps.join(' ')}\n` : `want ${oid}\n`,
    )
    if (deepen) lines.push(`deepen ${options.depth}\n`)
    if (filter) lines.push(`filter ${filter}\n`)
    lines.push(null, 'done\n')
    const response = await this.transport.uploadPack(encodePktLines(lines))
    const pack = extractPack(response, deepen)
    if (pack.byteLength === 0) return
    const name = `pack-${randomBytes(20).toString('hex')}`
    const relative = join('.git', 'objects', 'pack', `${name}.pack`)
    await writeFile(join(this.dir, relative), pack)
    await git.indexPack({ fs, dir: this.dir, gitdir: this.gitdir, filepath: relative, cache: this.cache })
  }

  /** A commit, or undefined when it is not in the store (beyond a shallow boundary). */
  async commit(oid: string): Promise<CommitObject | undefined> {
    try {
      return (await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache })).commit
    } catch (error) {
      if (isNotFound(error)) return undefined
      throw error
    }
  }

  /** Resolves a tag ref to its commit and creator date (the tagger date of an annotated tag, else the commit date); null when it does not name a commit. */
  async tagInfo(candidate: Candidate): Promise<TagInfo | null> {
    let oid = candidate.oid
    let taggerSec: number | undefined
    for (let hops = 0; hops < 10; hops++) {
      const object = await git.readObject({
        fs,
        gitdir: this.gitdir,
        oid,
        cache: this.cache,
        format: 'content',
      })
      if (object.type === 'commit') {
        const commit = (await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache })).commit
        return { candidate, commitOid: oid, commit, creatorSec: taggerSec ?? commit.committer.timestamp }
      }
      if (object.type !== 'tag') return null
      const tag = (await git.readTag({ fs, gitdir: this.gitdir, oid, cache: this.cache })).tag
      // The outermost tag's date is the creator date.
      taggerSec ??= tag.tagger.timestamp
      oid = tag.object
    }
    return null
  }

  /** Paths changed between two trees (files added, removed or modified; `undefined` is the empty tree). */
  async changedPaths(tree: string, parentTree: string | undefined): Promise<string[]> {
    const out: string[] = []
    await this.diff(tree, parentTree, '', out)
    return out
  }

  private async diff(
    a: string | undefined,
    b: string | undefined,
    prefix: string,
    out: string[],
  ): Promise<void> {
    if (a === b) return
    const left = a ? await this.tree(a) : []
    const right = b ? await this.tree(b) : []
    const byPath = new Map<string, { l?: (typeof left)[number]; r?: (typeof right)[number] }>()
    for (const e of left) byPath.set(e.path, { l: e })
    for (const e of right) byPath.set(e.path, { ...byPath.get(e.path), r: e })
    for (const [name, { l, r }] of byPath) {
      if (l && r && l.oid === r.oid && l.mode === r.mode) continue
      const path = prefix + name
      const lTree = l?.type === 'tree'
      const rTree = r?.type === 'tree'
      if (lTree || rTree) {
        await this.diff(lTree ? l?.oid : undefined, rTree ? r?.oid : undefined, `${path}/`, out)
        if ((l && !lTree) || (r && !rTree)) out.push(path)
      } else {
        out.push(path)
      }
    }
  }

  private async tree(oid: string): Promise<Array<{ path: string; oid: string; mode: string; type: string }>> {
    const cached = this.treeCache.get(oid)
    if (cached) return cached
    const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache })
    this.treeCache.set(oid, tree)
    return tree
  }
}

function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'NotFoundError'
}

/** pkt-line encoding; `null` is a flush-pkt. */
function encodePktLines(lines: Array<string | null>): Uint8Array {
  const parts: Buffer[] = []
  for (const line of lines) {
    if (line === null) {
      parts.push(Buffer.from('0000'))
      continue
    }
    const payload = Buffer.from(line)
    parts.push(Buffer.from((payload.length + 4).toString(16).padStart(4, '0')), payload)
  }
  return Buffer.concat(parts)
}

/**
 * Pulls the packfile out of an upload-pack response: an optional shallow-info section (ended by a flush), the
 * NAK/ACK lines, then side-band-64k packets (1 = pack data, 2 = progress, 3 = fatal error).
 */
function extractPack(response: Uint8Array, deepen: boolean): Uint8Array {
  const buf = Buffer.from(response.buffer, response.byteOffset, response.byteLength)
  let pos = 0
  const read = (): { flush: true } | { flush: false; data: Buffer } | undefined => {
    if (pos + 4 > buf.length) return undefined
    const len = Number.parseInt(buf.toString('latin1', pos, pos + 4), 16)
    if (Number.isNaN(len)) throw new Error('malformed upload-pack response')
    if (len === 0) {
      pos += 4
      return { flush: true }
    }
    if (len < 4 || pos + len > buf.length) throw new Error('truncated upload-pack response')
    const data = buf.subarray(pos + 4, pos + len)
    pos += len
    return { flush: false, data }
  }
  const asError = (data: Buffer): Error | undefined => {
    const text = data.toString('utf8')
    return text.startsWith('ERR ')
      ? new Error(`the git server refused the fetch: ${text.slice(4).trim()}`)
      : undefined
  }
  if (deepen) {
    for (;;) {
      const pkt = read()
      if (!pkt || pkt.flush) break
      const error = asError(pkt.data)
      if (error) throw error
    }
  }
  const chunks: Buffer[] = []
  let inPack = false
  for (;;) {
    const pkt = read()
    if (!pkt || pkt.flush) break
    if (!inPack) {
      const text = pkt.data.toString('latin1')
      const error = asError(pkt.data)
      if (error) throw error
      if (
        text.startsWith('NAK') ||
        text.startsWith('ACK') ||
        text.startsWith('shallow ') ||
        text.startsWith('unshallow ')
      )
        continue
      inPack = true
    }
    const channel = pkt.data[0]
    if (channel === 1) chunks.push(pkt.data.subarray(1))
    else if (channel === 3)
      throw new Error(`the git server failed the fetch: ${pkt.data.subarray(1).toString('utf8').trim()}`)
  }
  return Buffer.concat(chunks)
}
