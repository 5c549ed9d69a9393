import type { z } from 'zod'

/** What a step may be handed, declared by the step itself. */
export type Capability = 'git' | 'argocd' | 'credentials' | 'http'

/** Credentials for one repository, resolved from the project's Secrets. Never log, output or put these in errors. */
export interface RepoCredentials {
  username?: string
  password?: string
}

/** Looks up the project's credentials for a URL of the given type. */
export type CredentialsLookup = (
  type: 'git' | 'image' | 'helm' | 'generic',
  repoURL: string,
) => Promise<RepoCredentials | undefined>

/** Changes to Kargo resources a few steps make (set-freight-alias, set-metadata); provided by the engine. */
export interface KargoActions {
  /** Gives Freight (by name or alias) a new alias, unique in the project. */
  setFreightAlias(freight: string, alias: string): Promise<void>
  /** Merges values into a Freight's or Stage's `status.metadata` (readable later via freightMetadata()/stageMetadata()). */
  setMetadata(
    target: { kind: 'Freight' | 'Stage'; name: string },
    values: Record<string, unknown>,
  ): Promise<void>
}

/** Everything a step can see about the Promotion it runs in. */
export interface StepContext {
  project: string
  stage: string
  promotion: string
  /** Absolute path of this Promotion's private workspace; every path a step touches must stay inside it. */
  workDir: string
  /** The step's alias (`as`, or `step-N`). */
  alias: string
  /** The Freight being promoted (Kargo's FreightCollection shape: items keyed by origin `Warehouse/<name>`). */
  freight: FreightCollection
  /** Outputs of earlier steps, by alias. */
  outputs: Record<string, Record<string, unknown>>
  /** Data this step saved on an earlier attempt of the same Promotion (resumption after a crash or a wait). */
  state?: Record<string, unknown>
  /** Resolves repository credentials for the project. */
  credentials: CredentialsLookup
  /** Progress lines for the user ("cloning …"); never secrets. */
  log: (message: string) => void
  /**
   * When the Promotion started. Steps that create git objects use it as the commit time, so a step replayed
   * after a crash produces the same commit (no duplicate commits).
   */
  startedAt?: Date
  /** Kargo-side effects; present when the engine runs the step. */
  kargo?: KargoActions
  /** Outbound HTTP for steps that call user-given URLs (http, http-download); applies the deployment's allow-list. */
  fetch?: typeof fetch
  signal?: AbortSignal
}

export interface FreightReference {
  name: string
  origin: { kind: string; name: string }
  commits?: Array<{
    repoURL: string
    id?: string
    branch?: string
    tag?: string
    message?: string
    author?: string
    committer?: string
  }>
  images?: Array<{ repoURL: string; tag?: string; digest?: string; annotations?: Record<string, string> }>
  charts?: Array<{ repoURL: string; name?: string; version?: string }>
}

export interface FreightCollection {
  id?: string
  items: Record<string, FreightReference>
}

export type StepStatus = 'Succeeded' | 'Failed' | 'Errored' | 'Running' | 'Skipped'

/** What a step returns. `Running` means "not done; call me again after `retryAfterMs`" (a long wait). */
export interface StepResult {
  status: StepStatus
  message?: string
  output?: Record<string, unknown>
  /** With `Running`: when to call the step again. The worker re-hides its SQS message instead of sleeping. */
  retryAfterMs?: number
  /** With `Running`: data to hand back as `ctx.state` on the next call. */
  state?: Record<string, unknown>
}

/** One built-in promotion step. `config` mirrors `contracts/kargo/step-schemas/<kind>-config.json`. */
export interface Step<C = unknown> {
  /** The `uses:` name. */
  kind: string
  /** Parses the evaluated config (legacy fields normalised, defaults applied). Throws ZodError on bad input. */
  config: z.ZodType<C>
  requires?: Capability[]
  defaultTimeoutMs?: number
  run(ctx: StepContext, config: C): Promise<StepResult>
}
