import { syncWebhookReceivers } from '../events/webhooks.js'
import { ArgoCDAppHealthCheckSchema, checkArgoCDHealth } from '../argocd/health.js'
import { runStageVerification } from '../reconcile/analysis.js'
import type { Stage } from '../store/stages.js'
import type { PromoteDeps } from '../promotion/create.js'
import { enqueuer } from './queue.js'
import { reconcileProject, type ReconcileDeps } from '../reconcile/reconcile.js'
import type { ArgoCDClient } from '../argocd/client.js'
import { messageOf } from '../errors.js'
import type { Promotion } from '../store/promotions.js'
import { argoCDClientFor } from './argocd.js'
import type { RuntimeContext } from './context.js'

export function promoteDeps(ctx: RuntimeContext): PromoteDeps {
  return { db: ctx.db, enqueuePromotion: enqueuer(ctx) }
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
    client = await argoCDClientFor(ctx)(stage.project)
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

/** After a Promotion finishes: verify the Stage at once (when nothing slow is configured) and auto-promote onward. */
export async function afterPromotionFinished(
  ctx: RuntimeContext,
  project: string,
  _promotion: Promotion,
): Promise<void> {
  await reconcileProject(reconcileDeps(ctx), project)
}
