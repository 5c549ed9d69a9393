import fs from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { ConflictError, TerminalError } from '../errors.js'
import { lookupGitAuth } from '../git/auth.js'
import { discover, fetchPack, type Advertisement } from '../git/fetch.js'
import { ObjectStore } from '../git/objects.js'
import { redactURL } from '../git/redact.js'
import { remoteFor, type Remote } from '../git/repo.js'
import { providerWithCredentials, type ProviderOverrides } from '../gitprovider/provider.js'
import { branchFromStep, repositoryConfigFields } from '../gitprovider/step-support.js'
import type { GitProvider, PullRequest } from '../gitprovider/types.js'
import type { Step, StepContext, StepResult } from './types.js'

/*
 * `git-open-pr`: opens a pull request from `sourceBranch` into `targetBranch`, as Kargo does. It is idempotent: an
 * open pull request for the same branches whose head is the source branch's current commit is reused (a step replayed
 * after a crash finds the one it opened), and so is the one a provider reports as "already exists". With no
 * difference between the branches' trees the step is Skipped (providers refuse an empty pull request). Without a
 * `title`, the first line of the source head's commit message is the title and the rest the description.
 * Output: `{ pr: { id, url } }`.
 */

/** Mirrors `git-open-pr-config.json`, plus the legacy `sourceBranchFromStep` (a step whose output has `branch`). */
export const GitOpenPRConfigSchema = z
  .strictObject({
    ...repositoryConfigFields,
    sourceBranch: z.string().min(1).optional(),
    sourceBranchFromStep: z.string().min(1).optional(),
    targetBranch: z.string().min(1),
    /** Deprecated in Kargo; a no-op. */
    createTargetBranch: z.boolean().optional(),
    title: z.string().min(1).optional(),
    description: z.string().min(1).optional(),
    labels: z.array(z.string().min(1)).optional(),
  })
  .superRefine((c, ctx) => {
    if ((c.sourceBranch === undefined) === (c.sourceBranchFromStep === undefined)) {
      ctx.addIssue({
        code: 'custom',
        message: 'exactly one of sourceBranch and sourceBranchFromStep is required',
      })
    }
  })
export type GitOpenPRConfig = z.infer<typeof GitOpenPRConfigSchema>

/** Builds the `git-open-pr` step (tests and deployments may override the provider API root or fetch). */
export function createGitOpenPR(overrides: ProviderOverrides = {}): Step<GitOpenPRConfig> {
  return {
    kind: 'git-open-pr',
    config: GitOpenPRConfigSchema,
    requires: ['git', 'credentials'],
    defaultTimeoutMs: 5 * 60_000,
    run: (ctx, cfg) => runOpenPR(ctx, cfg, overrides),
  }
}

/** The `git-open-pr` step. */
export const gitOpenPR: Step<GitOpenPRConfig> = createGitOpenPR()

const PreviousOutputSchema = z.object({ pr: z.object({ id: z.number().int(), url: z.string() }) })

async function runOpenPR(
  ctx: StepContext,
  cfg: GitOpenPRConfig,
  overrides: ProviderOverrides,
): Promise<StepResult> {
  // An earlier execution of this step already recorded its pull request (Kargo's shared-state short cut).
  const previous = PreviousOutputSchema.safeParse(ctx.outputs[ctx.alias])
  if (previous.success) return { status: 'Succeeded', output: { pr: previous.data.pr } }

  const source = cfg.sourceBranch ?? branchFromStep(ctx, cfg.sourceBranchFromStep ?? '')
  const target = cfg.targetBranch
  const creds = await ctx.credentials('git', cfg.repoURL)
  const provider = providerWithCredentials(creds, cfg, overrides, ctx.signal)
  const remote = remoteFor(
    cfg.repoURL,
    await lookupGitAuth(async () => creds, cfg.repoURL),
    cfg.insecureSkipTLSVerify,
  )
  const advertised = await discover(remote)
  const sourceSHA = advertised.refs.get(`refs/heads/${source}`)
  if (!sourceSHA) {
    throw new TerminalError(`source branch "${source}" does not exist in ${redactURL(cfg.repoURL)}`, {
      data: { field: 'sourceBranch' },
    })
  }

  const existing = await findOpenPR(provider, source, target, sourceSHA)
  if (existing) {
    ctx.log(`reusing open pull request #${existing.number} from ${source} into ${target}`)
    return opened(existing)
  }

  const targetSHA = advertised.refs.get(`refs/heads/${target}`)
  if (!targetSHA) {
    throw new TerminalError(`target branch "${target}" does not exist in ${redactURL(cfg.repoURL)}`, {
      data: { field: 'targetBranch' },
    })
  }
  const heads = await readHeads(ctx.workDir, remote, advertised, sourceSHA, targetSHA)
  if (!heads.changed) {
    return {
      status: 'Skipped',
      message: `no differences between ${source} and ${target}; no pull request opened`,
    }
  }

  const { title, description } = titleAndDescription(cfg, heads.message)
  let pr: PullRequest
  try {
    pr = await provider.createPullRequest({
      head: source,
      base: target,
      title,
      description,
      ...(cfg.labels ? { labels: cfg.labels } : {}),
    })
  } catch (error) {
    // Opened between our look and our create (or the provider had not indexed the new head yet): adopt it.
    if (!(error instanceof ConflictError)) throw error
    const adopted = await findOpenPR(provider, source, target, undefined)
    if (!adopted) throw error
    ctx.log(`reusing open pull request #${adopted.number} from ${source} into ${target}`)
    return opened(adopted)
  }
  ctx.log(`opened pull request #${pr.number} from ${source} into ${target}: ${pr.url}`)
  return opened(pr)
}

function opened(pr: PullRequest): StepResult {
  return { status: 'Succeeded', output: { pr: { id: pr.number, url: pr.url } } }
}

/** The most recent open pull request from `head` into `base` (at `headCommit`, when given). */
async function findOpenPR(
  provider: GitProvider,
  head: string,
  base: string,
  headCommit: string | undefined,
): Promise<PullRequest | undefined> {
  const prs = await provider.listOpenPullRequests({ head, base, ...(headCommit ? { headCommit } : {}) })
  return [...prs].sort(
    (a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.number - a.number,
  )[0]
}

/**
 * Whether the two heads' trees differ, and the source head's commit message. Fetches both commits (depth 1) into a
 * scratch object store inside the workspace, removed afterwards.
 */
async function readHeads(
  workDir: string,
  remote: Remote,
  advertised: Advertisement,
  sourceSHA: string,
  targetSHA: string,
): Promise<{ changed: boolean; message: string }> {
  if (sourceSHA === targetSHA) return { changed: false, message: '' }
  fs.mkdirSync(workDir, { recursive: true })
  const scratch = fs.mkdtempSync(path.join(workDir, '.git-open-pr-'))
  try {
    const store = new ObjectStore(scratch)
    await fetchPack(remote, advertised, store, { wants: [sourceSHA, targetSHA], depth: 1 })
    const source = store.readCommit(sourceSHA)
    return { changed: source.tree !== store.readCommit(targetSHA).tree, message: source.message }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true })
  }
}

/** Kargo's defaults: the head commit's subject as title and its body as description, unless configured. */
function titleAndDescription(
  cfg: GitOpenPRConfig,
  commitMessage: string,
): { title: string; description: string } {
  const message = commitMessage.replace(/\s+$/, '')
  if (cfg.title) return { title: cfg.title, description: cfg.description ?? message }
  const newline = message.indexOf('\n')
  const subject = newline < 0 ? message : message.slice(0, newline)
  const body = newline < 0 ? '' : message.slice(newline + 1).replace(/^\s*\n/, '')
  return { title: subject.trim() || 'Kargo promotion', description: cfg.description ?? body }
}
