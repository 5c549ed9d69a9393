import fs from 'node:fs'
import path from 'node:path'
import git from 'isomorphic-git'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import { lookupGitAuth } from '../git/auth.js'
import { redactURL } from '../git/redact.js'
import {
  DEFAULT_GIT_USER,
  fetchRemote,
  openRepo,
  pushRef,
  remoteFor,
  writeCommit,
  type GitUser,
  type LocalRepo,
  type Remote,
} from '../git/repo.js'
import { checkoutTree, normalizeSparse } from '../git/worktree.js'
import type { Step, StepContext, StepResult } from './types.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'

/*
 * `git-clone`: every checkout becomes its own working tree (a shallow, single-ref clone with its own `.git`), where
 * Kargo adds git worktrees to one bare clone. A branch missing on the remote is, with `create: true`, created as an
 * orphan with an empty "Initial commit" and pushed right away, as Kargo does. Output: `commits` — the HEAD commit of
 * each checkout, keyed by its `as` or else its `path`.
 */

const AuthorSchema = z.strictObject({
  name: z.string().min(1),
  email: z.string().email(),
  signingKey: z.string().optional(),
})

const CheckoutSchema = z
  .strictObject({
    as: z.string().optional(),
    branch: z.string().nullish(),
    commit: z.string().nullish(),
    tag: z.string().nullish(),
    create: z.boolean().optional(),
    path: z.string().min(1),
    sparse: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine(
    (c) => [c.branch, c.commit, c.tag].filter((v) => v !== undefined && v !== null && v !== '').length <= 1,
    {
      message: 'branch, commit and tag are mutually exclusive',
    },
  )

/** Mirrors `git-clone-config.json`. */
export const GitCloneConfigSchema = z
  .strictObject({
    repoURL: z.string().min(1),
    insecureSkipTLSVerify: z.boolean().optional(),
    recurseSubmodules: z.boolean().optional(),
    blobless: z.boolean().optional(),
    author: AuthorSchema.optional(),
    checkout: z.array(CheckoutSchema).min(1),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>()
    cfg.checkout.forEach((c, i) => {
      if (!c.as) return
      if (seen.has(c.as))
        ctx.addIssue({
          code: 'custom',
          path: ['checkout', i, 'as'],
          message: `duplicate checkout alias "${c.as}"`,
        })
      seen.add(c.as)
    })
  })
export type GitCloneConfig = z.infer<typeof GitCloneConfigSchema>
type Checkout = GitCloneConfig['checkout'][number]

/** The `git-clone` step. */
export const gitClone: Step<GitCloneConfig> = {
  kind: 'git-clone',
  config: GitCloneConfigSchema,
  requires: ['git', 'credentials'],
  defaultTimeoutMs: 5 * 60_000,
  run: runGitClone,
}

async function runGitClone(ctx: StepContext, cfg: GitCloneConfig): Promise<StepResult> {
  if (cfg.recurseSubmodules) throw new TerminalError('recurseSubmodules is not supported by Tugboat yet')
  if (cfg.author?.signingKey)
    throw new TerminalError('commit signing (author.signingKey) is not supported by Tugboat yet')
  const targets = cfg.checkout.map((c, i) =>
    resolveInWorkspaceReal(ctx.workDir, c.path, `checkout[${i}].path`),
  )
  if (new Set(targets).size !== targets.length) throw new TerminalError('two checkouts use the same path')
  const auth = await lookupGitAuth(ctx.credentials, cfg.repoURL)
  const remote = remoteFor(cfg.repoURL, auth, cfg.insecureSkipTLSVerify ?? false)
  const user: GitUser = cfg.author ? { name: cfg.author.name, email: cfg.author.email } : DEFAULT_GIT_USER

  const cloneOne = async (checkout: Checkout, i: number): Promise<string> => {
    ctx.log(`cloning ${redactURL(cfg.repoURL)} (${describe(checkout)}) into ${checkout.path}`)
    return cloneCheckout({ dir: targets[i] ?? '', checkout, remote, user, cfg })
  }
  // Checkouts in separate directories are fetched concurrently (the remote's pack building overlaps); nested ones
  // are cloned one after the other, outer first.
  const nested = targets.some((a) => targets.some((b) => a !== b && b.startsWith(`${a}${path.sep}`)))
  const heads: string[] = []
  if (nested) for (const [i, checkout] of cfg.checkout.entries()) heads.push(await cloneOne(checkout, i))
  else heads.push(...(await Promise.all(cfg.checkout.map(cloneOne))))
  const commits: Record<string, string> = {}
  cfg.checkout.forEach((checkout, i) => {
    commits[checkout.as ?? checkout.path] = heads[i] ?? ''
  })
  return { status: 'Succeeded', output: { commits } }
}

function describe(c: Checkout): string {
  if (c.branch) return `branch ${c.branch}`
  if (c.tag) return `tag ${c.tag}`
  if (c.commit) return `commit ${c.commit}`
  return 'default branch'
}

interface CloneInput {
  dir: string
  checkout: Checkout
  remote: Remote
  user: GitUser
  cfg: GitCloneConfig
}

async function cloneCheckout(input: CloneInput): Promise<string> {
  const { dir, checkout, remote, user, cfg } = input
  await prepareDir(dir, checkout.path, cfg.repoURL)
  const sparse = checkout.sparse ? sparseDirs(checkout.sparse) : undefined
  await git.init({ fs, dir, defaultBranch: checkout.branch || 'main' })
  const set = (key: string, value: string): Promise<void> => git.setConfig({ fs, dir, path: key, value })
  await set('remote.origin.url', cfg.repoURL)
  await set('remote.origin.fetch', '+refs/heads/*:refs/remotes/origin/*')
  await set('user.name', user.name)
  await set('user.email', user.email)
  if (cfg.insecureSkipTLSVerify) await set('http.sslVerify', 'false')
  if (sparse) await configureSparse(dir, sparse)
  const repo = await openRepo(dir, checkout.path)

  if (checkout.branch) {
    let fetched = await fetchRemote(repo, remote, { ref: `refs/heads/${checkout.branch}`, depth: 1 })
    if (fetched.oid === undefined) {
      if (!checkout.create) {
        throw new TerminalError(
          `remote branch "${checkout.branch}" of repo ${redactURL(cfg.repoURL)} does not exist; set create=true if you'd ` +
            'like a non-existent remote branch to be automatically created at checkout',
          { data: { branch: checkout.branch } },
        )
      }
      fetched = { oid: await createOrphanBranch(repo, remote, checkout.branch), defaultBranch: undefined }
    }
    return checkOut(repo, fetched.oid ?? '', checkout.branch, sparse)
  }
  if (checkout.tag) {
    const fetched = await fetchRemote(repo, remote, { ref: `refs/tags/${checkout.tag}`, depth: 1 })
    if (fetched.oid === undefined) {
      throw new TerminalError(`tag "${checkout.tag}" not found in ${redactURL(cfg.repoURL)}`, {
        data: { tag: checkout.tag },
      })
    }
    return checkOut(repo, fetched.oid, undefined, sparse)
  }
  if (checkout.commit)
    return checkOut(repo, await fetchCommit(repo, remote, checkout.commit), undefined, sparse)
  const fetched = await fetchRemote(repo, remote, { depth: 1 })
  if (fetched.oid === undefined) throw new TerminalError(`repository ${redactURL(cfg.repoURL)} is empty`)
  const branch = fetched.defaultBranch?.replace(/^refs\/heads\//, '')
  return checkOut(repo, fetched.oid, branch, sparse)
}

/** Makes `dir` an empty directory. A leftover clone of the same repo (an earlier attempt) is replaced. */
async function prepareDir(dir: string, label: string, repoURL: string): Promise<void> {
  let entries: string[]
  try {
    entries = fs.readdirSync(dir)
  } catch {
    fs.mkdirSync(dir, { recursive: true })
    return
  }
  if (entries.length === 0) return
  if (entries.includes('.git')) {
    const url = await git.getConfig({ fs, dir, path: 'remote.origin.url' }).catch(() => undefined)
    if (url === repoURL) {
      fs.rmSync(dir, { recursive: true, force: true })
      fs.mkdirSync(dir, { recursive: true })
      return
    }
  }
  throw new TerminalError(`checkout path "${label}" already exists and is not empty`, {
    data: { path: label },
  })
}

function sparseDirs(dirs: string[]): string[] {
  try {
    return normalizeSparse(dirs)
  } catch (error) {
    throw new TerminalError(error instanceof Error ? error.message : String(error))
  }
}

/** Records a cone-mode sparse checkout the way git does (so the git CLI agrees), plus the dirs for Tugboat's steps. */
async function configureSparse(dir: string, sparse: string[]): Promise<void> {
  await git.setConfig({ fs, dir, path: 'core.sparseCheckout', value: 'true' })
  await git.setConfig({ fs, dir, path: 'core.sparseCheckoutCone', value: 'true' })
  for (const d of sparse) await git.setConfig({ fs, dir, path: 'tugboat.sparse', value: d, append: true })
  const lines = new Set(['/*', '!/*/'])
  for (const d of sparse) {
    const parts = d.split('/')
    for (let i = 1; i < parts.length; i++) {
      const prefix = parts.slice(0, i).join('/')
      lines.add(`/${prefix}/`)
      lines.add(`!/${prefix}/*/`)
    }
    lines.add(`/${d}/`)
  }
  fs.mkdirSync(path.join(dir, '.git', 'info'), { recursive: true })
  fs.writeFileSync(path.join(dir, '.git', 'info', 'sparse-checkout'), `${[...lines].join('\n')}\n`)
}

/** Fetches one commit: directly by SHA when the server allows it, else the whole history of all branches and tags. */
async function fetchCommit(repo: LocalRepo, remote: Remote, commit: string): Promise<string> {
  if (/^[0-9a-f]{40}$/.test(commit)) {
    try {
      const fetched = await fetchRemote(repo, remote, { ref: commit, depth: 1 })
      repo.store.refresh()
      if (fetched.oid && repo.store.has(commit)) return commit
    } catch (error) {
      // A server that does not serve unadvertised commits refuses the request: fall back to a full fetch.
      if (error instanceof TerminalError) throw error
    }
  }
  await fetchRemote(repo, remote, { singleBranch: false })
  repo.store.refresh()
  try {
    const oid = await git.expandOid({ fs, dir: repo.dir, oid: commit })
    return repo.store.peelToCommit(oid)
  } catch {
    throw new TerminalError(`commit ${commit} not found in ${redactURL(remote.url)}`, { data: { commit } })
  }
}

/** Creates `branch` on the remote as an orphan holding an empty "Initial commit" and returns that commit. */
async function createOrphanBranch(repo: LocalRepo, remote: Remote, branch: string): Promise<string> {
  const tree = repo.store.write('tree', Buffer.alloc(0))
  const oid = await writeCommit(repo, { tree, parents: [], message: 'Initial commit', author: repo.user })
  const ref = `refs/heads/${branch}`
  await git.writeRef({ fs, dir: repo.dir, ref, value: oid, force: true })
  const pushed = await pushRef(repo.dir, remote, ref, ref)
  if (pushed.ok) return oid
  // Someone created the branch meanwhile: use theirs.
  const fetched = await fetchRemote(repo, remote, { ref, depth: 1 })
  if (fetched.oid === undefined) {
    throw new TerminalError(
      `could not create branch "${branch}" in ${redactURL(remote.url)}: ${pushed.rejected ?? 'rejected'}`,
    )
  }
  return fetched.oid
}

/** Points HEAD at `oid` (on `branch`, or detached) and writes the working tree. Returns the commit SHA. */
async function checkOut(
  repo: LocalRepo,
  fetched: string,
  branch: string | undefined,
  sparse: string[] | undefined,
): Promise<string> {
  repo.store.refresh()
  const commit = repo.store.peelToCommit(fetched)
  const { dir } = repo
  if (branch) {
    await git.writeRef({ fs, dir, ref: `refs/heads/${branch}`, value: commit, force: true })
    await git.writeRef({ fs, dir, ref: 'HEAD', value: `refs/heads/${branch}`, force: true, symbolic: true })
    await git.setConfig({ fs, dir, path: `branch.${branch}.remote`, value: 'origin' })
    await git.setConfig({ fs, dir, path: `branch.${branch}.merge`, value: `refs/heads/${branch}` })
    // isomorphic-git's push leaves out objects reachable from origin/HEAD: point it at what we cloned.
    await git.writeRef({
      fs,
      dir,
      ref: 'refs/remotes/origin/HEAD',
      value: `refs/remotes/origin/${branch}`,
      force: true,
      symbolic: true,
    })
  } else {
    await git.writeRef({ fs, dir, ref: 'HEAD', value: commit, force: true, symbolic: false })
  }
  checkoutTree(dir, repo.store, repo.store.flatten(repo.store.readCommit(commit).tree), { sparse })
  return commit
}
