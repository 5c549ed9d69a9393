import { syncWebhookReceivers } from '../events/webhooks.js'
import { argoCDClientProviderFromEnv } from '../argocd/provider.js'
import { ArgoCDAppHealthCheckSchema, checkArgoCDHealth } from '../argocd/health.js'
import { runStageVerification } from '../reconcile/analysis.js'
import type { Stage } from '../store/stages.js'
import { pollDueWarehouses, pollWarehouse, type PollDeps } from '../discovery/poller.js'
import { createTokenCache } from '../discovery/oci/registry-client.js'
import type { PromoteDeps } from '../promotion/create.js'
import { sendPromotionMessage } from '../queue/promotions.js'
import { reconcileProject, type ReconcileDeps } from '../reconcile/reconcile.js'
import { findCredential, findCredentialOfType } from '../store/credentials.js'
import { ArgoCDClient } from '../argocd/client.js'
import { messageOf, ValidationError } from '../errors.js'
import type { Promotion } from '../store/promotions.js'
import { builtinSteps } from '../steps/registry.js'
import type { Step } from '../steps/types.js'
import type { RuntimeContext } from './context.js'

// Built once per runtime context (a Lambda container has one; tests and the local runtime may make several).
const stepsByContext = new WeakMap<RuntimeContext, ReadonlyMap<string, Step<unknown>>>()
const tokenCache = createTokenCache()

/** The step registry for this runtime, with Argo CD clients from project credentials or the environment. */
export function promotionStepDeps(ctx: RuntimeContext): ReadonlyMap<string, Step<unknown>> {
  let steps = stepsByContext.get(ctx)
  if (!steps) {
    steps = builtinSteps({ argocd: { argocd: argocdProvider(ctx) } })
    stepsByContext.set(ctx, steps)
  }
  return steps
}

/** Sends a Promotion to the queue. */
export function enqueuer(ctx: RuntimeContext) {
  return async (message: { project: string; stage: string; promotion: string }, nonce = '') => {
    const url = ctx.config.TUGBOAT_PROMOTIONS_QUEUE_URL
    if (!url) throw new Error('TUGBOAT_PROMOTIONS_QUEUE_URL is not set')
    await sendPromotionMessage(ctx.sqs, url, message, nonce)
  }
}

export function promoteDeps(ctx: RuntimeContext): PromoteDeps {
  return { db: ctx.db, enqueuePromotion: enqueuer(ctx) }
}

const fromEnv = argoCDClientProviderFromEnv()

/**
 * The Argo CD client for a project: the project's own `argocd` credential (a Secret labelled
 * `kargo.akuity.io/cred-type: argocd` with `server`, `token` and optionally `insecureSkipTLSVerify`) when it has
 * one, else the deployment's ARGOCD_SERVER / ARGOCD_AUTH_TOKEN.
 */
const argocdProvider =
  (ctx: RuntimeContext) =>
  async (project: string): Promise<ArgoCDClient> => {
    const credential = await findCredentialOfType(ctx.db, ctx.sealer, project, 'argocd')
    if (!credential) return fromEnv(project)
    const { server, token, insecureSkipTLSVerify } = credential.data
    if (!server || !token)
      throw new ValidationError(
        `Secret "${credential.name}" (cred-type argocd) needs stringData.server and stringData.token`,
      )
    return new ArgoCDClient({ server, token, insecureSkipTLSVerify: insecureSkipTLSVerify === 'true' })
  }

/** Health of a Stage from the Argo CD apps its last Promotion registered; NotApplicable when there are none. */
export async function stageHealth(
  ctx: RuntimeContext,
  stage: Stage,
): Promise<Awaited<ReturnType<NonNullable<ReconcileDeps['stageHealth']>>>> {
  const checks = (stage.status.healthChecks ?? []).map((c) => ArgoCDAppHealthCheckSchema.parse(c))
  if (checks.length === 0) return { status: 'NotApplicable' }
  let client: ArgoCDClient
  try {
    client = await argocdProvider(ctx)(stage.project)
  } catch (error) {
    return { status: 'Unknown', issues: [`cannot reach Argo CD: ${messageOf(error)}`] }
  }
  const result = await checkArgoCDHealth(client, checks)
  return {
    status: result.status,
    argoCDApps: result.apps.map((a) => ({
      name: a.name,
      namespace: a.namespace,
      status: a.status,
      ...(a.message ? { message: a.message } : {}),
    })),
    ...(result.status !== 'Healthy'
      ? {
          issues: result.apps
            .filter((a) => a.status !== 'Healthy')
            .map((a) => `${a.name}: ${a.status}${a.message ? ` (${a.message})` : ''}`),
        }
      : {}),
  }
}

export function reconcileDeps(ctx: RuntimeContext): ReconcileDeps {
  return {
    ...promoteDeps(ctx),
    redrive: enqueuer(ctx),
    stageHealth: (stage) => stageHealth(ctx, stage),
    runVerification: (stage) => runStageVerification({ db: ctx.db }, stage),
    syncWebhooks: (project) => syncWebhookReceivers(ctx, project, ctx.config.TUGBOAT_PUBLIC_URL),
    log: (line) => console.log(line),
  }
}

/** Discovery wired to the store: credentials, the registry token cache, and auto-promotion of new Freight. */
export function pollDeps(ctx: RuntimeContext): PollDeps {
  return {
    db: ctx.db,
    credentials: async (project, type, repoURL) => {
      const found = await findCredential(ctx.db, ctx.sealer, project, type, repoURL)
      return found?.data.username !== undefined && found.data.password !== undefined
        ? { username: found.data.username, password: found.data.password }
        : undefined
    },
    minIntervalMs: ctx.config.TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS * 1000,
    tokenCache,
    log: (line) => console.log(line),
    onFreight: async (project) => {
      await reconcileProject(reconcileDeps(ctx), project)
    },
  }
}

export const pollAll = (ctx: RuntimeContext) => pollDueWarehouses(pollDeps(ctx))
export const pollOne = (ctx: RuntimeContext, project: string, warehouse: string) =>
  pollWarehouse(pollDeps(ctx), project, warehouse, { force: true })

/** After a Promotion finishes: verify the Stage at once (when nothing slow is configured) and auto-promote onward. */
export async function afterPromotionFinished(
  ctx: RuntimeContext,
  project: string,
  _promotion: Promotion,
): Promise<void> {
  await reconcileProject(reconcileDeps(ctx), project)
}
