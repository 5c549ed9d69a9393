/** The shapes of the Argo CD contract fake (`server.ts`): its apps, options and handle. */

export interface FakeSource {
  repoURL?: string
  path?: string
  chart?: string
  targetRevision?: string
  ref?: string
  name?: string
  helm?: {
    parameters?: Array<{ name?: string; value?: string; forceString?: boolean }>
    [key: string]: unknown
  }
  kustomize?: { images?: string[]; [key: string]: unknown }
  [key: string]: unknown
}

export interface FakeInfo {
  name: string
  value: string
}

export interface FakeOperation {
  sync?: {
    revision?: string
    revisions?: string[]
    source?: FakeSource
    sources?: FakeSource[]
    prune?: boolean
    dryRun?: boolean
    syncOptions?: string[]
    [key: string]: unknown
  }
  initiatedBy?: { username?: string; automated?: boolean }
  info?: FakeInfo[]
  retry?: Record<string, unknown>
}

export interface FakeOperationState {
  operation: FakeOperation
  phase: string
  message?: string
  startedAt: string
  finishedAt?: string
  syncResult?: { revision?: string; revisions?: string[]; source?: FakeSource; sources?: FakeSource[] }
}

export interface FakeApplication {
  metadata: {
    name: string
    namespace: string
    uid: string
    resourceVersion: string
    generation: number
    creationTimestamp: string
    labels?: Record<string, string>
    annotations?: Record<string, string>
    finalizers?: string[]
  }
  spec: {
    project: string
    source?: FakeSource
    sources?: FakeSource[]
    destination: { server?: string; namespace?: string; name?: string }
    syncPolicy?: {
      automated?: { enabled?: boolean; prune?: boolean; selfHeal?: boolean }
      syncOptions?: string[]
      retry?: Record<string, unknown>
    }
    [key: string]: unknown
  }
  operation?: FakeOperation
  status: {
    sync: {
      status: string
      revision?: string
      revisions?: string[]
      comparedTo?: { source?: FakeSource; sources?: FakeSource[]; destination?: Record<string, unknown> }
    }
    health: { status: string; message?: string; lastTransitionTime?: string }
    operationState?: FakeOperationState
    reconciledAt?: string
    history?: Array<Record<string, unknown>>
    conditions?: Array<{ type: string; message?: string; lastTransitionTime?: string }>
  }
}

/** A short way to declare an app; the fake fills in a realistic status (synced, one old Succeeded operation). */
export interface FakeAppSeed {
  name: string
  /** Default: the control-plane namespace (`argocd`). */
  namespace?: string
  /** Argo CD project; default `default`. */
  project?: string
  labels?: Record<string, string>
  annotations?: Record<string, string>
  source?: FakeSource
  sources?: FakeSource[]
  /** `syncPolicy.automated` (auto-sync). */
  automated?: boolean
  /** Health now and after every future reconciliation; default Healthy. */
  health?: string
  /** What `status.sync.revision(s)` holds now; default the resolved targetRevisions. */
  syncedRevisions?: string[]
  conditions?: Array<{ type: string; message?: string }>
}

export interface FakeTiming {
  /** From POST /sync to the controller's pick-up (operationState Running). */
  startDelayMs: number
  /** From Running to Succeeded/Failed. */
  syncDurationMs: number
  /** From finishedAt to the next reconciliation (reconciledAt, health). */
  reconcileDelayMs: number
  /** From a refresh request (annotation or spec change) to its reconciliation. */
  refreshDelayMs: number
}

export type FakeRBACAction = 'get' | 'update' | 'sync' | 'override'

export interface FakeArgoCDOptions {
  /** The only accepted bearer token; it must look like a JWT (three dot-separated parts). */
  token: string
  /** The token's subject, recorded as `initiatedBy.username`. Default `tugboat`. */
  subject?: string
  apps?: FakeAppSeed[]
  controlPlaneNamespace?: string
  /** Extra namespaces apps may live in (`application.namespaces`). */
  appNamespaces?: string[]
  rootPath?: string
  timing?: Partial<FakeTiming>
  /** RBAC, by action and `<project>/<app>` (or `<project>/<ns>/<app>`). Default: allow all. */
  rbac?: (request: { action: FakeRBACAction; resource: string }) => boolean
  /** argocd-cm `application.sync.requireOverridePrivilegeForRevisionSync`. */
  requireOverridePrivilegeForRevisionSync?: boolean
  /**
   * Resolves a revision of a source to what Argo CD records (a commit SHA or chart version), or undefined when the
   * repo-server could not (PATCH → 400 invalid spec, sync → 400). Default: every revision resolves to itself.
   */
  resolveRevision?: (repoURL: string, revision: string, source: FakeSource) => string | undefined
  /** Simulate auto-sync: a PATCH that leaves an automated app out of sync starts an automated operation at once. */
  autoSyncOnSpecChange?: boolean
  /** Refuse unknown fields in bodies (the real server drops them silently). Default true. */
  strict?: boolean
  /** Serve https with this key pair instead of http. */
  tls?: { key: string; cert: string }
  /** The controller's clock (ms since the epoch); default `Date.now`. Tests pass a `manualClock()` to step time. */
  clock?: () => number
}

export interface FakeRequestRecord {
  method: string
  path: string
  query: Record<string, string[]>
  body?: unknown
  status: number
  authorization?: string
}

export interface FakeArgoCD {
  url: string
  /** Every request, in order (the authorization header is recorded as `Bearer <redacted>`). */
  requests: FakeRequestRecord[]
  close(): Promise<void>
  /** The live app (advanced to now). Mutate it to arrange odd states. Throws when absent. */
  app(name: string, namespace?: string): FakeApplication
  apps(): FakeApplication[]
  addApp(seed: FakeAppSeed): FakeApplication
  deleteApp(name: string, namespace?: string): void
  /** Sets health now and as the result of every later reconciliation. */
  setHealth(name: string, status: string, options?: { namespace?: string; message?: string }): void
  /** The next operation started on the app ends Failed with this message. */
  failNextSync(name: string, message?: string, namespace?: string): void
  /** Keeps the app's current or next operation Running until released with `hold = false`. */
  holdOperation(name: string, hold?: boolean, namespace?: string): void
  /** Starts an operation nobody asked for through the API (auto-sync, or another user). */
  startOperation(
    name: string,
    options?: {
      namespace?: string
      revision?: string
      revisions?: string[]
      automated?: boolean
      username?: string
      info?: FakeInfo[]
    },
  ): void
  setSyncWindowBlocked(name: string, blocked: boolean, namespace?: string): void
  /** The next request that matches gets this error answer instead (grpc-gateway shape). */
  failNextRequest(
    match: { method?: string; path?: string | RegExp },
    answer: { status: number; message: string; code?: number },
  ): void
}
