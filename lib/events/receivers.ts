/**
 * Kargo's webhook receivers (ProjectConfig `spec.webhookReceivers`): how each provider authenticates a request and
 * which repositories its payload says changed. Pure functions of (secret data, headers, raw body).
 */
import { z } from 'zod'
import type { RepositoryChange } from './refresh.js'
import { sameToken, verifySignature } from './signature.js'

/** The receiver types Kargo defines and the Secret key whose value each one uses (for the URL and, mostly, auth). */
export const RECEIVER_SECRET_KEYS = {
  github: 'secret',
  gitlab: 'secret-token',
  gitea: 'secret',
  bitbucket: 'secret',
  dockerhub: 'secret',
  quay: 'secret',
  harbor: 'auth-header',
  artifactory: 'secret-token',
  azure: 'secret',
  generic: 'secret',
} as const
export type ReceiverType = keyof typeof RECEIVER_SECRET_KEYS

/** Types this build handles; the others are accepted in ProjectConfig but answer 501. */
export const SUPPORTED_RECEIVER_TYPES: readonly ReceiverType[] = [
  'github',
  'gitlab',
  'gitea',
  'dockerhub',
  'quay',
  'harbor',
  'generic',
]

export interface ReceiverRequest {
  header: (name: string) => string | undefined
  /** The raw body, exactly as received (signatures are over these bytes). */
  body: Buffer
  query: (name: string) => string | undefined
}

export type ReceiverVerdict =
  | { kind: 'unauthorized'; message: string }
  | { kind: 'bad-request'; message: string }
  | { kind: 'ignored'; message: string }
  | { kind: 'refresh'; change: RepositoryChange; what: string }

const Obj = z.record(z.string(), z.unknown())

function json(body: Buffer): Record<string, unknown> | undefined {
  try {
    const parsed = Obj.safeParse(JSON.parse(body.toString('utf8')))
    return parsed.success ? parsed.data : undefined
  } catch {
    return undefined
  }
}

const PushCommitSchema = z
  .object({
    added: z.array(z.string()).optional(),
    modified: z.array(z.string()).optional(),
    removed: z.array(z.string()).optional(),
  })
  .passthrough()

/** Every path a push's commits touched (sorted, unique); undefined when the payload does not list them all. */
function changedPaths(
  commits: Array<z.infer<typeof PushCommitSchema>>,
  complete: boolean,
): string[] | undefined {
  if (!complete) return undefined
  const paths = new Set<string>()
  for (const c of commits)
    for (const p of [...(c.added ?? []), ...(c.modified ?? []), ...(c.removed ?? [])]) paths.add(p)
  return [...paths].sort()
}

// GitHub and Gitea share the push payload shape.
const GitHubPushSchema = z
  .object({
    ref: z.string(),
    repository: z
      .object({
        clone_url: z.string().optional(),
        ssh_url: z.string().optional(),
        html_url: z.string().optional(),
        default_branch: z.string().optional(),
      })
      .passthrough(),
    commits: z.array(PushCommitSchema).optional(),
    head_commit: PushCommitSchema.nullable().optional(),
  })
  .passthrough()

function githubPush(body: Record<string, unknown>): ReceiverVerdict {
  const push = GitHubPushSchema.safeParse(body)
  if (!push.success) return { kind: 'bad-request', message: 'invalid push payload' }
  const { repository, ref } = push.data
  const commits = [...(push.data.commits ?? []), ...(push.data.head_commit ? [push.data.head_commit] : [])]
  // GitHub lists at most 2048 commits; past that the changed paths are unknown and every subscriber refreshes.
  const paths = changedPaths(commits, (push.data.commits ?? []).length < 2048)
  return {
    kind: 'refresh',
    what: `push to ${ref}`,
    change: {
      git: [repository.clone_url, repository.ssh_url, repository.html_url].filter((u): u is string =>
        Boolean(u),
      ),
      ref,
      ...(repository.default_branch ? { defaultBranch: repository.default_branch } : {}),
      ...(paths ? { changedPaths: paths } : {}),
    },
  }
}

const GitHubPackageSchema = z
  .object({
    action: z.string(),
    package: z
      .object({
        package_type: z.string().optional(),
        package_version: z
          .object({
            package_url: z.string().optional(),
            container_metadata: z
              .object({ tag: z.object({ name: z.string().optional() }).passthrough().optional() })
              .passthrough()
              .optional(),
          })
          .passthrough()
          .nullable()
          .optional(),
      })
      .passthrough()
      .optional(),
    registry_package: z.unknown().optional(),
  })
  .passthrough()

function githubPackage(body: Record<string, unknown>, event: string): ReceiverVerdict {
  const parsed = GitHubPackageSchema.safeParse(
    event === 'registry_package' ? { ...body, package: body.registry_package } : body,
  )
  if (!parsed.success) return { kind: 'bad-request', message: 'invalid package payload' }
  if (!['published', 'updated'].includes(parsed.data.action))
    return { kind: 'ignored', message: `package ${parsed.data.action}: nothing to refresh` }
  const pkg = parsed.data.package
  const version = pkg?.package_version
  if (!pkg || !version) return { kind: 'bad-request', message: 'invalid package payload: no package_version' }
  if (!['container', 'docker'].includes((pkg.package_type ?? '').toLowerCase()))
    return { kind: 'ignored', message: `package type ${pkg.package_type ?? '?'}: not an image` }
  // GitHub sometimes sends `ghcr.io/owner/image:` (trailing colon, no tag).
  const url = (version.package_url ?? '').replace(/:$/, '')
  if (!url) return { kind: 'bad-request', message: 'invalid package payload: no package_url' }
  const tag = version.container_metadata?.tag?.name
  return {
    kind: 'refresh',
    what: `package ${url}${tag ? ` tag ${tag}` : ''}`,
    change: { images: [url], charts: [`oci://${url}`] },
  }
}

function github(
  secret: string,
  request: ReceiverRequest,
  signatureHeader = 'x-hub-signature-256',
  eventHeader = 'x-github-event',
): ReceiverVerdict {
  if (!verifySignature(secret, request.body, request.header(signatureHeader))) {
    return { kind: 'unauthorized', message: 'missing or wrong signature' }
  }
  const event = request.header(eventHeader) ?? ''
  const body = json(request.body)
  if (!body) return { kind: 'bad-request', message: 'the body must be JSON' }
  switch (event) {
    case 'ping':
      return { kind: 'ignored', message: 'ping event received, webhook is configured correctly' }
    case 'push':
      return githubPush(body)
    case 'package':
    case 'registry_package':
      return githubPackage(body, event)
    case 'pull_request':
      return {
        kind: 'ignored',
        message: 'pull_request: waiting Promotions poll their pull requests themselves',
      }
    default:
      return { kind: 'bad-request', message: `event type ${event || '(none)'} is not supported` }
  }
}

const GitLabPushSchema = z
  .object({
    ref: z.string(),
    repository: z
      .object({ git_http_url: z.string().optional(), git_ssh_url: z.string().optional() })
      .passthrough()
      .optional(),
    project: z.object({ default_branch: z.string().optional() }).passthrough().optional(),
    commits: z.array(PushCommitSchema).optional(),
    total_commits_count: z.number().optional(),
  })
  .passthrough()

function gitlab(secret: string, request: ReceiverRequest): ReceiverVerdict {
  if (!sameToken(secret, request.header('x-gitlab-token')))
    return { kind: 'unauthorized', message: 'missing or wrong X-Gitlab-Token' }
  const event = request.header('x-gitlab-event') ?? ''
  if (event === 'Merge Request Hook')
    return {
      kind: 'ignored',
      message: 'merge request: waiting Promotions poll their merge requests themselves',
    }
  if (event !== 'Push Hook' && event !== 'Tag Push Hook')
    return { kind: 'bad-request', message: `event type ${event || '(none)'} is not supported` }
  const body = json(request.body)
  const push = GitLabPushSchema.safeParse(body)
  if (!push.success) return { kind: 'bad-request', message: 'invalid push payload' }
  const commits = push.data.commits ?? []
  // GitLab truncates `commits` (20 by default); then the changed paths are unknown.
  const paths =
    event === 'Push Hook'
      ? changedPaths(commits, (push.data.total_commits_count ?? commits.length) <= commits.length)
      : undefined
  return {
    kind: 'refresh',
    what: `${event === 'Tag Push Hook' ? 'tag push' : 'push'} to ${push.data.ref}`,
    change: {
      git: [push.data.repository?.git_http_url, push.data.repository?.git_ssh_url].filter((u): u is string =>
        Boolean(u),
      ),
      ref: push.data.ref,
      ...(push.data.project?.default_branch ? { defaultBranch: push.data.project.default_branch } : {}),
      ...(paths ? { changedPaths: paths } : {}),
    },
  }
}

const DockerHubSchema = z
  .object({
    push_data: z.object({ tag: z.string().optional() }).passthrough().optional(),
    repository: z.object({ repo_name: z.string() }).passthrough(),
  })
  .passthrough()

// Docker Hub signs nothing: the hard-to-guess URL is the shared secret (as in Kargo).
function dockerhub(request: ReceiverRequest): ReceiverVerdict {
  const payload = DockerHubSchema.safeParse(json(request.body))
  if (!payload.success) return { kind: 'bad-request', message: 'invalid request body' }
  const repo = payload.data.repository.repo_name
  return {
    kind: 'refresh',
    what: `push of ${repo}:${payload.data.push_data?.tag ?? ''}`,
    change: { images: [repo], charts: [`oci://${repo}`] },
  }
}

const QuaySchema = z
  .object({ docker_url: z.string(), updated_tags: z.array(z.string()).optional() })
  .passthrough()

// Quay signs nothing either; the URL is the secret.
function quay(request: ReceiverRequest): ReceiverVerdict {
  const payload = QuaySchema.safeParse(json(request.body))
  if (!payload.success) return { kind: 'bad-request', message: 'invalid request body' }
  const url = payload.data.docker_url
  return { kind: 'refresh', what: `push of ${url}`, change: { images: [url], charts: [`oci://${url}`] } }
}

const HarborSchema = z
  .object({
    type: z.string(),
    event_data: z
      .object({
        resources: z
          .array(z.object({ resource_url: z.string().optional(), tag: z.string().optional() }).passthrough())
          .optional(),
      })
      .passthrough(),
  })
  .passthrough()

function harbor(secret: string, request: ReceiverRequest): ReceiverVerdict {
  const given = request.header('authorization')
  if (!given) return { kind: 'unauthorized', message: 'missing authorization' }
  if (!sameToken(secret, given)) return { kind: 'unauthorized', message: 'unauthorized' }
  const payload = HarborSchema.safeParse(json(request.body))
  if (!payload.success) return { kind: 'bad-request', message: 'invalid request body' }
  if (payload.data.type !== 'PUSH_ARTIFACT') return { kind: 'bad-request', message: 'unsupported event type' }
  const first = payload.data.event_data.resources?.[0]?.resource_url
  if (!first) return { kind: 'ignored', message: 'no resources in the event' }
  const repo = first.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^:/]+$/, '')
  return { kind: 'refresh', what: `push of ${repo}`, change: { images: [repo], charts: [`oci://${repo}`] } }
}

/**
 * Authenticates a request for one receiver and reads what it says changed. `secretData` is the receiver's
 * Secret. Generic receivers are handled by `runGenericReceiver` (they select Warehouses themselves).
 */
export function evaluateReceiver(
  type: Exclude<ReceiverType, 'generic'>,
  secretData: Record<string, string>,
  request: ReceiverRequest,
): ReceiverVerdict {
  const secret = secretData[RECEIVER_SECRET_KEYS[type]] ?? ''
  switch (type) {
    case 'github':
      return github(secret, request)
    case 'gitea':
      return github(secret, request, 'x-hub-signature-256', 'x-gitea-event')
    case 'gitlab':
      return gitlab(secret, request)
    case 'dockerhub':
      return dockerhub(request)
    case 'quay':
      return quay(request)
    case 'harbor':
      return harbor(secret, request)
    default:
      return { kind: 'bad-request', message: `${type} receivers are not supported by Tugboat yet` }
  }
}

/** The JSON body for a generic receiver's expressions (`request.body`), or a reason it is not JSON. */
export function genericBody(body: Buffer): { ok: true; value: unknown } | { ok: false; message: string } {
  if (body.length === 0) return { ok: true, value: null }
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) as unknown }
  } catch (error) {
    return {
      ok: false,
      message: `invalid request body: ${error instanceof Error ? error.message : String(error)}`,
    }
  }
}
