import { randomUUID } from 'node:crypto'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { matchesLabelSelector, parseLabelSelector } from './label-selector.js'
import { PatchError, applyJsonPatch, mergePatch, type JsonPatchOp, type JsonValue } from './patch.js'
import { swaggerValidator } from './swagger.js'
import type {
  FakeSource,
  FakeOperation,
  FakeApplication,
  FakeAppSeed,
  FakeTiming,
  FakeRBACAction,
  FakeArgoCDOptions,
  FakeRequestRecord,
  FakeArgoCD,
} from './types.js'

/*
 * A contract fake of the Argo CD API server's application routes, for tests. It follows
 * `shared/contracts/argocd-swagger.json` (every request body and every seeded app is validated against it) and the
 * server behaviours in `shared/contracts/argocd-notes.md`: bearer auth, 403-instead-of-404 without a project,
 * PATCH persisting only spec/labels/annotations/finalizers, sync → operation lifecycle, "another operation is
 * already in progress", int64 as JSON numbers, grpc-gateway error bodies. A tiny simulated controller advances
 * each app on every request (no timers): operation Running → Succeeded/Failed after `syncDurationMs`,
 * health Progressing → the app's target health once `reconciledAt` moves past `finishedAt`.
 */

export type {
  FakeSource,
  FakeInfo,
  FakeOperation,
  FakeOperationState,
  FakeApplication,
  FakeAppSeed,
  FakeTiming,
  FakeRBACAction,
  FakeArgoCDOptions,
  FakeRequestRecord,
  FakeArgoCD,
} from './types.js'

const DEFAULT_TIMING: FakeTiming = {
  startDelayMs: 5,
  syncDurationMs: 60,
  reconcileDelayMs: 40,
  refreshDelayMs: 20,
}
const REFRESH_ANNOTATION = 'argocd.argoproj.io/refresh'

/** Kubernetes times have second precision. */
function iso(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z')
}

class FakeHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
  ) {
    super(message)
  }
}

const GRPC = {
  Unknown: 2,
  InvalidArgument: 3,
  NotFound: 5,
  PermissionDenied: 7,
  FailedPrecondition: 9,
  Unauthenticated: 16,
}

function fail(status: number, code: number, message: string): never {
  throw new FakeHttpError(status, code, message)
}

interface SimulatedOperation {
  startAt: number
  finishAt: number
  started: boolean
  revisions: string[]
  multi: boolean
  failMessage?: string
  terminated?: boolean
}

interface Entry {
  app: FakeApplication
  targetHealth: string
  healthMessage?: string
  op?: SimulatedOperation
  reconcileAt?: number
  refreshAt?: number
  hold: boolean
  failNext?: string
  syncWindowBlocked: boolean
  nextHistoryId: number
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function clone<T>(value: T): T {
  return structuredClone(value)
}

/** Starts the fake on 127.0.0.1 and a random port. */
export async function startFakeArgoCD(options: FakeArgoCDOptions): Promise<FakeArgoCD> {
  const strict = options.strict ?? true
  const validator = swaggerValidator({ strict })
  const loose = swaggerValidator({ strict: false })
  const timing: FakeTiming = { ...DEFAULT_TIMING, ...options.timing }
  const controlPlane = options.controlPlaneNamespace ?? 'argocd'
  const namespaces = new Set([controlPlane, ...(options.appNamespaces ?? [])])
  const subject = options.subject ?? 'tugboat'
  const rootPath = (options.rootPath ?? '').replace(/\/+$/, '')
  const rbac = options.rbac ?? (() => true)
  const resolve = options.resolveRevision ?? ((_repo: string, revision: string) => revision)
  const clock = options.clock ?? Date.now
  const entries = new Map<string, Entry>()
  const requests: FakeRequestRecord[] = []
  const injected: Array<{
    match: { method?: string; path?: string | RegExp }
    answer: { status: number; message: string; code?: number }
  }> = []

  const keyOf = (namespace: string, name: string) => `${namespace}/${name}`
  const rbacName = (project: string, namespace: string, name: string) =>
    namespace === controlPlane ? `${project}/${name}` : `${project}/${namespace}/${name}`

  function sourcesOf(app: FakeApplication): FakeSource[] {
    if (app.spec.sources && app.spec.sources.length > 0) return app.spec.sources
    return app.spec.source ? [app.spec.source] : []
  }
  const isMulti = (app: FakeApplication) => (app.spec.sources?.length ?? 0) > 0
  const isAutomated = (app: FakeApplication) =>
    app.spec.syncPolicy?.automated !== undefined && app.spec.syncPolicy.automated.enabled !== false
  const targetOf = (source: FakeSource) => source.targetRevision || 'HEAD'
  const resolvedTargets = (app: FakeApplication) =>
    sourcesOf(app).map((s) => resolve(s.repoURL ?? '', targetOf(s), s) ?? targetOf(s))
  const syncedOf = (app: FakeApplication) =>
    app.status.sync.revisions && app.status.sync.revisions.length > 0
      ? app.status.sync.revisions
      : app.status.sync.revision !== undefined
        ? [app.status.sync.revision]
        : []

  function bump(app: FakeApplication) {
    app.metadata.resourceVersion = String(Number(app.metadata.resourceVersion) + 1)
  }

  function revisionFields(multi: boolean, revisions: string[]) {
    return multi ? { revisions: [...revisions] } : { revision: revisions[0] ?? '' }
  }
  function sourceFields(app: FakeApplication) {
    return isMulti(app)
      ? { sources: clone(app.spec.sources ?? []) }
      : { source: clone(app.spec.source ?? {}) }
  }

  function buildApp(seed: FakeAppSeed, now: number): Entry {
    const namespace = seed.namespace ?? controlPlane
    const multi = (seed.sources?.length ?? 0) > 0
    const spec: FakeApplication['spec'] = {
      project: seed.project ?? 'default',
      destination: { server: 'https://kubernetes.default.svc', namespace: seed.name },
      ...(multi ? { sources: clone(seed.sources ?? []) } : { source: clone(seed.source ?? {}) }),
      ...(seed.automated ? { syncPolicy: { automated: { enabled: true } } } : {}),
    }
    const app: FakeApplication = {
      metadata: {
        name: seed.name,
        namespace,
        uid: randomUUID(),
        resourceVersion: '1',
        generation: 1,
        creationTimestamp: iso(now - 86_400_000),
        ...(seed.labels ? { labels: { ...seed.labels } } : {}),
        ...(seed.annotations ? { annotations: { ...seed.annotations } } : {}),
      },
      spec,
      status: { sync: { status: 'Unknown' }, health: { status: seed.health ?? 'Healthy' } },
    }
    const targets = resolvedTargets(app)
    const synced = seed.syncedRevisions ?? targets
    const finished = now - 7_200_000
    const previous: FakeOperation = {
      sync: { ...revisionFields(multi, synced), ...sourceFields(app) },
      initiatedBy: { username: 'admin' },
    }
    app.status = {
      sync: {
        status: synced.every((rev, i) => rev === targets[i]) ? 'Synced' : 'OutOfSync',
        ...revisionFields(multi, synced),
        comparedTo: { ...sourceFields(app), destination: { ...spec.destination } },
      },
      health: { status: seed.health ?? 'Healthy', lastTransitionTime: iso(finished) },
      operationState: {
        operation: previous,
        phase: 'Succeeded',
        message: 'successfully synced (all tasks run)',
        startedAt: iso(finished - 30_000),
        finishedAt: iso(finished),
        syncResult: { ...revisionFields(multi, synced), ...sourceFields(app) },
      },
      reconciledAt: iso(now - 3_600_000),
      history: [
        {
          id: 0,
          ...revisionFields(multi, synced),
          deployStartedAt: iso(finished - 30_000),
          deployedAt: iso(finished),
          ...sourceFields(app),
          initiatedBy: { username: 'admin' },
        },
      ],
      ...(seed.conditions
        ? { conditions: seed.conditions.map((c) => ({ ...c, lastTransitionTime: iso(now) })) }
        : {}),
    }
    const errors = validator.validate('v1alpha1Application', app)
    if (errors.length > 0)
      throw new Error(`fake argocd: seed app "${seed.name}" is invalid: ${errors.join('; ')}`)
    return {
      app,
      targetHealth: seed.health ?? 'Healthy',
      hold: false,
      syncWindowBlocked: false,
      nextHistoryId: 1,
    }
  }

  function reconcile(entry: Entry, at: number) {
    const app = entry.app
    app.status.reconciledAt = iso(at)
    const targets = resolvedTargets(app)
    const synced = syncedOf(app)
    app.status.sync.status = targets.every((rev, i) => rev === synced[i]) ? 'Synced' : 'OutOfSync'
    const running = entry.op?.started === true
    const health = running ? 'Progressing' : entry.targetHealth
    if (app.status.health.status !== health) app.status.health.lastTransitionTime = iso(at)
    app.status.health = {
      ...app.status.health,
      status: health,
      ...(entry.healthMessage && !running ? { message: entry.healthMessage } : {}),
    }
    if (!entry.healthMessage || running) delete app.status.health.message
    bump(app)
  }

  function advance(entry: Entry, now: number) {
    const app = entry.app
    const op = entry.op
    if (op && !op.started && app.operation && now >= op.startAt) {
      op.started = true
      app.status.operationState = {
        operation: clone(app.operation),
        phase: 'Running',
        message: 'one or more tasks are running',
        startedAt: iso(op.startAt),
        syncResult: { ...revisionFields(op.multi, op.revisions), ...sourceFields(app) },
      }
      app.status.health = { status: 'Progressing', lastTransitionTime: iso(op.startAt) }
      bump(app)
    }
    if (op && op.started && !entry.hold && now >= op.finishAt) {
      const state = app.status.operationState
      const phase = op.terminated || op.failMessage !== undefined ? 'Failed' : 'Succeeded'
      if (state) {
        state.phase = phase
        state.message = op.terminated
          ? 'Operation terminated'
          : (op.failMessage ?? 'successfully synced (all tasks run)')
        state.finishedAt = iso(op.finishAt)
      }
      if (phase === 'Succeeded') {
        app.status.sync = {
          ...app.status.sync,
          ...revisionFields(op.multi, op.revisions),
          comparedTo: { ...sourceFields(app), destination: { ...app.spec.destination } },
        }
        const targets = resolvedTargets(app)
        app.status.sync.status = targets.every((rev, i) => rev === op.revisions[i]) ? 'Synced' : 'OutOfSync'
        app.status.history = [
          ...(app.status.history ?? []),
          {
            id: entry.nextHistoryId++,
            ...revisionFields(op.multi, op.revisions),
            deployStartedAt: iso(op.startAt),
            deployedAt: iso(op.finishAt),
            ...sourceFields(app),
            ...(app.operation?.initiatedBy ? { initiatedBy: clone(app.operation.initiatedBy) } : {}),
          },
        ]
      }
      delete app.operation
      entry.op = undefined
      entry.reconcileAt = op.finishAt + timing.reconcileDelayMs
      bump(app)
    }
    if (entry.refreshAt !== undefined && now >= entry.refreshAt) {
      const at = entry.refreshAt
      entry.refreshAt = undefined
      if (app.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined) {
        delete app.metadata.annotations[REFRESH_ANNOTATION]
      }
      reconcile(entry, at)
    }
    if (entry.reconcileAt !== undefined && now >= entry.reconcileAt) {
      const at = entry.reconcileAt
      entry.reconcileAt = undefined
      reconcile(entry, at)
    }
  }

  function advanceAll() {
    const now = clock()
    for (const entry of entries.values()) advance(entry, now)
  }

  function beginOperation(entry: Entry, operation: FakeOperation, revisions: string[], now: number) {
    const app = entry.app
    app.operation = operation
    delete app.status.operationState
    const startAt = now + timing.startDelayMs
    entry.op = {
      startAt,
      finishAt: startAt + timing.syncDurationMs,
      started: false,
      revisions,
      multi: isMulti(app),
      ...(entry.failNext !== undefined ? { failMessage: entry.failNext } : {}),
    }
    entry.failNext = undefined
    bump(app)
  }

  function entryFor(name: string, namespace?: string): Entry {
    const entry = entries.get(keyOf(namespace ?? controlPlane, name))
    if (!entry) throw new Error(`fake argocd: no app "${namespace ?? controlPlane}/${name}"`)
    return entry
  }

  /** Argo CD's getAppEnforceRBAC: 403 hides absence unless a project is given. */
  function enforce(
    action: FakeRBACAction,
    name: string,
    namespaceParam: string | undefined,
    project: string | undefined,
  ) {
    const namespace = namespaceParam || controlPlane
    if (!namespaces.has(namespace))
      fail(403, GRPC.PermissionDenied, `namespace '${namespace}' is not permitted`)
    const notFound = () => fail(404, GRPC.NotFound, `applications.argoproj.io "${name}" not found`)
    const denied = () => fail(403, GRPC.PermissionDenied, 'permission denied')
    if (project && !rbac({ action, resource: rbacName(project, namespace, name) })) denied()
    const entry = entries.get(keyOf(namespace, name))
    if (!entry) return project ? notFound() : denied()
    const appProject = entry.app.spec.project || 'default'
    if (!rbac({ action, resource: rbacName(appProject, namespace, name) }))
      return project ? notFound() : denied()
    if (project && project !== appProject) notFound()
    return entry
  }

  function checkRBAC(action: FakeRBACAction, entry: Entry) {
    const app = entry.app
    if (
      !rbac({
        action,
        resource: rbacName(app.spec.project || 'default', app.metadata.namespace, app.metadata.name),
      })
    ) {
      fail(403, GRPC.PermissionDenied, 'permission denied')
    }
  }

  function validateBody(definition: string, body: unknown) {
    const errors = validator.validate(definition, body)
    if (errors.length > 0) {
      fail(400, GRPC.InvalidArgument, `request body does not match ${definition}: ${errors.join('; ')}`)
    }
  }

  function single(query: URLSearchParams, key: string): string | undefined {
    return query.get(key) ?? undefined
  }

  function projectParam(query: URLSearchParams): string | undefined {
    const projects = [...query.getAll('project'), ...query.getAll('projects')].filter((p) => p !== '')
    if (projects.length > 1) {
      fail(
        400,
        GRPC.InvalidArgument,
        'multiple projects specified - the get endpoint accepts either zero or one project',
      )
    }
    return projects[0]
  }

  // ---- handlers -------------------------------------------------------------------------------------------

  function handleGet(name: string, query: URLSearchParams) {
    const entry = enforce('get', name, single(query, 'appNamespace'), projectParam(query))
    if (query.has('refresh')) reconcile(entry, clock())
    return entry.app
  }

  function handleList(query: URLSearchParams) {
    const namespace = single(query, 'appNamespace')
    if (namespace && !namespaces.has(namespace)) {
      fail(403, GRPC.PermissionDenied, `namespace '${namespace}' is not permitted`)
    }
    let requirements: ReturnType<typeof parseLabelSelector> = []
    try {
      requirements = parseLabelSelector(query.get('selector') ?? '')
    } catch (error) {
      fail(400, GRPC.InvalidArgument, `error parsing the selector: ${(error as Error).message}`)
    }
    const projects = [...query.getAll('project'), ...query.getAll('projects')].filter((p) => p !== '')
    const name = query.get('name')
    const items = [...entries.values()]
      .map((e) => e.app)
      .filter((app) => !namespace || app.metadata.namespace === namespace)
      .filter((app) => !name || app.metadata.name === name)
      .filter((app) => projects.length === 0 || projects.includes(app.spec.project))
      .filter((app) => matchesLabelSelector(requirements, app.metadata.labels))
      .filter((app) =>
        rbac({
          action: 'get',
          resource: rbacName(app.spec.project, app.metadata.namespace, app.metadata.name),
        }),
      )
    return { metadata: { resourceVersion: String(clock()) }, items }
  }

  function handlePatch(name: string, body: unknown) {
    validateBody('applicationApplicationPatchRequest', body)
    if (!isRecord(body)) return fail(400, GRPC.InvalidArgument, 'request body must be an object')
    for (const field of ['patch', 'patchType']) {
      // proto2 `required`: the gateway fails before the handler runs.
      if (typeof body[field] !== 'string') {
        fail(
          500,
          GRPC.Unknown,
          `proto: required field "application.ApplicationPatchRequest.${field}" not set`,
        )
      }
    }
    const entry = enforce(
      'get',
      name,
      typeof body.appNamespace === 'string' ? body.appNamespace : undefined,
      typeof body.project === 'string' ? body.project : undefined,
    )
    checkRBAC('update', entry)
    const app = entry.app
    const current: JsonValue = JSON.parse(JSON.stringify(app))
    const patchText = String(body.patch)
    const patchType = String(body.patchType)
    let patched: JsonValue
    if (patchType === 'merge') {
      let patch: JsonValue
      try {
        patch = JSON.parse(patchText)
      } catch {
        return fail(500, GRPC.Unknown, 'error calculating merge patch: Invalid JSON Patch')
      }
      patched = mergePatch(current, patch)
    } else if (patchType === 'json' || patchType === '') {
      let ops: unknown
      try {
        ops = JSON.parse(patchText)
      } catch {
        return fail(500, GRPC.Unknown, 'error decoding json patch: invalid character')
      }
      if (
        !Array.isArray(ops) ||
        !ops.every((op) => isRecord(op) && typeof op.op === 'string' && typeof op.path === 'string')
      ) {
        return fail(500, GRPC.Unknown, 'error decoding json patch: not an array of operations')
      }
      try {
        patched = applyJsonPatch(current, ops as JsonPatchOp[])
      } catch (error) {
        if (error instanceof PatchError)
          return fail(500, GRPC.Unknown, `error applying patch: ${error.message}`)
        throw error
      }
    } else {
      return fail(400, GRPC.InvalidArgument, `Patch type '${patchType}' is not supported`)
    }

    const typeErrors = loose.validate('v1alpha1Application', patched)
    if (typeErrors.length > 0)
      fail(500, GRPC.Unknown, `error unmarshaling patched app: ${typeErrors.join('; ')}`)
    const unknownFields = validator.validate('v1alpha1Application', patched)
    if (unknownFields.length > 0) {
      fail(
        400,
        GRPC.InvalidArgument,
        `fake argocd: the real server would silently drop: ${unknownFields.join('; ')}`,
      )
    }
    if (!isRecord(patched) || !isRecord(patched.spec))
      return fail(400, GRPC.InvalidArgument, 'spec is required')
    const patchedMeta = isRecord(patched.metadata) ? patched.metadata : {}
    // Validated against the swagger just above: the shapes are those of FakeApplication.
    const spec = patched.spec as FakeApplication['spec']
    validateSpec(app.metadata.name, spec)

    const specChanged = JSON.stringify(spec) !== JSON.stringify(app.spec)
    app.spec = spec
    // Only spec, labels, annotations and finalizers persist; operation and status edits are dropped.
    for (const field of ['labels', 'annotations', 'finalizers'] as const) {
      const value = patchedMeta[field]
      if (value === undefined) delete app.metadata[field]
      else (app.metadata as Record<string, unknown>)[field] = value
    }
    if (specChanged) app.metadata.generation += 1
    bump(app)
    const now = clock()
    if (specChanged || app.metadata.annotations?.[REFRESH_ANNOTATION] !== undefined) {
      entry.refreshAt = now + timing.refreshDelayMs
    }
    if (specChanged && options.autoSyncOnSpecChange && isAutomated(app) && !app.operation) {
      const targets = resolvedTargets(app)
      if (!targets.every((rev, i) => rev === syncedOf(app)[i])) {
        beginOperation(
          entry,
          {
            sync: { ...revisionFields(isMulti(app), targets), ...sourceFields(app) },
            initiatedBy: { automated: true },
            ...(app.spec.syncPolicy?.retry ? { retry: clone(app.spec.syncPolicy.retry) } : {}),
          },
          targets,
          now,
        )
      }
    }
    return app
  }

  function validateSpec(name: string, spec: FakeApplication['spec']) {
    const invalid = (reason: string) =>
      fail(400, GRPC.InvalidArgument, `application spec for ${name} is invalid: InvalidSpecError: ${reason}`)
    const list = spec.sources && spec.sources.length > 0 ? spec.sources : spec.source ? [spec.source] : []
    if (list.length === 0) invalid('spec.source or spec.sources must be specified')
    for (const source of list) {
      if (!source.repoURL)
        invalid(
          'spec.source.repoURL and either spec.source.path, spec.source.chart, or spec.source.ref are required',
        )
      const revision = source.targetRevision || 'HEAD'
      if (resolve(source.repoURL ?? '', revision, source) === undefined) {
        invalid(
          `Unable to generate manifests in ${source.path ?? source.chart ?? '.'}: rpc error: code = Unknown desc = ` +
            `unable to resolve '${revision}' to a commit SHA`,
        )
      }
    }
    if (!spec.destination) invalid('spec.destination is required')
  }

  function handleSync(name: string, body: unknown) {
    validateBody('applicationApplicationSyncRequest', body)
    if (!isRecord(body)) return fail(400, GRPC.InvalidArgument, 'request body must be an object')
    const str = (key: string) => (typeof body[key] === 'string' ? String(body[key]) : undefined)
    const entry = enforce('get', name, str('appNamespace'), str('project'))
    const app = entry.app
    if (entry.syncWindowBlocked) fail(403, GRPC.PermissionDenied, 'cannot sync: blocked by sync window')
    checkRBAC('sync', entry)
    const dryRun = body.dryRun === true
    const sources = sourcesOf(app)
    const overrideCheck = (describe: () => string) => {
      if (options.requireOverridePrivilegeForRevisionSync) checkRBAC('override', entry)
      if (isAutomated(app) && !dryRun) fail(400, GRPC.FailedPrecondition, describe())
    }
    const resolveOrFail = (source: FakeSource, revision: string) => {
      const resolved = resolve(source.repoURL ?? '', revision, source)
      if (resolved === undefined) {
        fail(
          400,
          GRPC.FailedPrecondition,
          `error resolving repo revision: unable to resolve '${revision}' to a commit SHA`,
        )
      }
      return resolved
    }

    let revisions: string[]
    if (isMulti(app)) {
      const positions = Array.isArray(body.sourcePositions) ? body.sourcePositions : []
      const requested = Array.isArray(body.revisions) ? body.revisions : []
      const desired: string[] = sources.map(() => '')
      positions.forEach((position, i) => {
        const pos = Number(position)
        if (pos <= 0 || pos > sources.length) fail(500, GRPC.Unknown, 'source position is out of range')
        // The real handler indexes revisions[i] without a bounds check and panics.
        if (i >= requested.length) fail(500, GRPC.Unknown, 'runtime error: index out of range')
        desired[pos - 1] = String(requested[i])
      })
      revisions = sources.map((source, index) => {
        const want = desired[index] ?? ''
        if (want !== '' && want !== targetOf(source)) {
          overrideCheck(
            () =>
              `Cannot sync source ${source.repoURL} to ${want}: auto-sync currently set to ${source.targetRevision ?? ''}`,
          )
        }
        return resolveOrFail(source, want || targetOf(source))
      })
    } else {
      const source = sources[0] ?? {}
      const want = str('revision') ?? ''
      if (want !== '' && want !== targetOf(source)) {
        overrideCheck(
          () => `Cannot sync to ${want}: auto-sync currently set to ${source.targetRevision ?? ''}`,
        )
      }
      revisions = [resolveOrFail(source, want || targetOf(source))]
    }

    const syncOptions =
      isRecord(body.syncOptions) && Array.isArray(body.syncOptions.items)
        ? body.syncOptions.items.map(String)
        : app.spec.syncPolicy?.syncOptions
    const retry = isRecord(body.retryStrategy) ? body.retryStrategy : app.spec.syncPolicy?.retry
    const infos = Array.isArray(body.infos)
      ? body.infos.filter(isRecord).map((i) => ({ name: String(i.name ?? ''), value: String(i.value ?? '') }))
      : []
    const operation: FakeOperation = {
      sync: {
        ...revisionFields(isMulti(app), revisions),
        ...sourceFields(app),
        ...(body.prune === true ? { prune: true } : {}),
        ...(dryRun ? { dryRun: true } : {}),
        ...(syncOptions && syncOptions.length > 0 ? { syncOptions: [...syncOptions] } : {}),
      },
      initiatedBy: { username: subject },
      ...(infos.length > 0 ? { info: infos } : {}),
      ...(retry ? { retry: clone(retry) } : {}),
    }
    if (app.operation) fail(400, GRPC.FailedPrecondition, 'another operation is already in progress')
    beginOperation(entry, operation, revisions, clock())
    return app
  }

  function handleTerminate(name: string, query: URLSearchParams) {
    const entry = enforce('sync', name, single(query, 'appNamespace'), projectParam(query))
    const app = entry.app
    if (!app.operation || !app.status.operationState || !entry.op) {
      fail(400, GRPC.InvalidArgument, 'Unable to terminate operation. No operation is in progress')
    }
    app.status.operationState.phase = 'Terminating'
    entry.op.terminated = true
    entry.op.finishAt = Math.max(clock() + Math.min(timing.syncDurationMs, 20), entry.op.startAt)
    entry.hold = false
    bump(app)
    return {}
  }

  // ---- HTTP -----------------------------------------------------------------------------------------------

  function authorized(req: http.IncomingMessage): boolean {
    const header = req.headers.authorization ?? ''
    const cookie = /(?:^|;\s*)argocd\.token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1]
    // The prefix is case-sensitive; a token that is not three dot-separated parts is ignored.
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : cookie
    return token !== undefined && token.split('.').length === 3 && token === options.token
  }

  function route(method: string, pathname: string, query: URLSearchParams, body: unknown): unknown {
    if (pathname === '/api/v1/applications' && method === 'GET') return handleList(query)
    const match = /^\/api\/v1\/applications\/([^/]+)(\/sync|\/operation)?$/.exec(pathname)
    if (match) {
      const name = decodeURIComponent(match[1]!)
      const sub = match[2]
      if (!sub && method === 'GET') return handleGet(name, query)
      if (!sub && method === 'PATCH') return handlePatch(name, body)
      if (sub === '/sync' && method === 'POST') return handleSync(name, body)
      if (sub === '/operation' && method === 'DELETE') return handleTerminate(name, query)
    }
    return fail(404, GRPC.NotFound, 'Not Found')
  }

  async function readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
    return Buffer.concat(chunks).toString('utf8')
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    const text = await readBody(req)
    const query: Record<string, string[]> = {}
    for (const [key, value] of url.searchParams) (query[key] ??= []).push(value)
    const record: FakeRequestRecord = {
      method,
      path: url.pathname,
      query,
      status: 0,
      ...(req.headers.authorization
        ? { authorization: req.headers.authorization.replace(/ .*/, ' <redacted>') }
        : {}),
    }
    requests.push(record)
    let status = 200
    let payload: unknown
    try {
      let body: unknown
      if (text.trim() !== '') {
        try {
          body = JSON.parse(text)
        } catch {
          fail(400, GRPC.InvalidArgument, 'invalid character in request body: not JSON')
        }
        record.body = body
      }
      if (rootPath && !url.pathname.startsWith(`${rootPath}/`)) fail(404, GRPC.NotFound, 'Not Found')
      const pathname = rootPath ? url.pathname.slice(rootPath.length) : url.pathname
      const injectedIndex = injected.findIndex(
        ({ match }) =>
          (!match.method || match.method === method) &&
          (!match.path ||
            (typeof match.path === 'string' ? match.path === pathname : match.path.test(pathname))),
      )
      if (injectedIndex >= 0) {
        const [{ answer }] = injected.splice(injectedIndex, 1) as [(typeof injected)[number]]
        fail(answer.status, answer.code ?? GRPC.Unknown, answer.message)
      }
      if (!authorized(req)) fail(401, GRPC.Unauthenticated, 'no session information')
      advanceAll()
      payload = route(method, pathname, url.searchParams, body)
    } catch (error) {
      if (error instanceof FakeHttpError) {
        status = error.status
        payload = { error: error.message, code: error.code, message: error.message }
      } else {
        status = 500
        const message = error instanceof Error ? error.message : String(error)
        payload = { error: message, code: GRPC.Unknown, message }
      }
    }
    record.status = status
    const json = JSON.stringify(payload)
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) })
    res.end(json)
  }

  const now = clock()
  for (const seed of options.apps ?? []) {
    const entry = buildApp(seed, now)
    entries.set(keyOf(entry.app.metadata.namespace, entry.app.metadata.name), entry)
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      res.writeHead(500, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: String(error), code: GRPC.Unknown, message: String(error) }))
    })
  }
  const server = options.tls
    ? https.createServer({ key: options.tls.key, cert: options.tls.cert }, listener)
    : http.createServer(listener)
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolveListen())
  })
  const { port } = server.address() as AddressInfo
  const url = `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`

  return {
    url,
    requests,
    async close() {
      server.closeAllConnections()
      await new Promise<void>((resolveClose) => server.close(() => resolveClose()))
    },
    app(name, namespace) {
      const entry = entryFor(name, namespace)
      advance(entry, clock())
      return entry.app
    },
    apps() {
      advanceAll()
      return [...entries.values()].map((e) => e.app)
    },
    addApp(seed) {
      const entry = buildApp(seed, clock())
      entries.set(keyOf(entry.app.metadata.namespace, entry.app.metadata.name), entry)
      return entry.app
    },
    deleteApp(name, namespace) {
      entries.delete(keyOf(namespace ?? controlPlane, name))
    },
    setHealth(name, status, opts = {}) {
      const entry = entryFor(name, opts.namespace)
      advance(entry, clock())
      entry.targetHealth = status
      entry.healthMessage = opts.message
      if (!entry.op?.started) {
        entry.app.status.health = {
          status,
          lastTransitionTime: iso(clock()),
          ...(opts.message ? { message: opts.message } : {}),
        }
        bump(entry.app)
      }
    },
    failNextSync(name, message = 'one or more objects failed to apply', namespace) {
      const entry = entryFor(name, namespace)
      if (entry.op && !entry.op.started) entry.op.failMessage = message
      else entry.failNext = message
    },
    holdOperation(name, hold = true, namespace) {
      const entry = entryFor(name, namespace)
      advance(entry, clock())
      entry.hold = hold
      if (!hold && entry.op) entry.op.finishAt = Math.max(entry.op.finishAt, clock())
    },
    startOperation(name, opts = {}) {
      const entry = entryFor(name, opts.namespace)
      advance(entry, clock())
      const app = entry.app
      if (app.operation) throw new Error(`fake argocd: "${name}" already has an operation`)
      const revisions = opts.revisions ?? (opts.revision ? [opts.revision] : resolvedTargets(app))
      beginOperation(
        entry,
        {
          sync: { ...revisionFields(isMulti(app), revisions), ...sourceFields(app) },
          initiatedBy:
            opts.automated === false ? { username: opts.username ?? 'admin' } : { automated: true },
          ...(opts.info ? { info: opts.info } : {}),
        },
        revisions,
        clock(),
      )
    },
    setSyncWindowBlocked(name, blocked, namespace) {
      entryFor(name, namespace).syncWindowBlocked = blocked
    },
    failNextRequest(match, answer) {
      injected.push({ match, answer })
    },
  }
}
