import { Hono } from 'hono'
import { canPromote, canView } from '../../auth/actor.js'
import { ConflictError } from '../../errors.js'
import { abortStageVerification, publicRun, restartStageVerification } from '../../reconcile/analysis.js'
import { listResources } from '../../store/resources.js'
import { requireStage } from '../../store/stages.js'
import { requireRole, type AuthEnv } from '../auth.js'
import type { AppDeps } from '../deps.js'

/** A Stage's verification: its history and runs, re-verify, abort. */
export function verificationRoutes(deps: AppDeps) {
  const app = new Hono<AuthEnv>()

  app.get('/:project/stages/:stage/verification', async (c) => {
    const { project, stage: name } = c.req.param()
    requireRole(c.get('actor'), canView(c.get('actor'), project), `view project "${project}"`)
    const stage = await requireStage(deps.db, project, name)
    const runs = (await listResources(deps.db, project, 'AnalysisRun'))
      .filter((r) => (r as { stage?: string }).stage === name)
      .map(publicRun)
      .reverse()
    return c.json({
      stage: name,
      phase: stage.status.phase,
      verificationHistory: stage.status.freightHistory?.[0]?.verificationHistory ?? [],
      runs,
    })
  })

  app.post('/:project/stages/:stage/verification', async (c) => {
    const { project, stage: name } = c.req.param()
    requireRole(c.get('actor'), canPromote(c.get('actor'), project), `verify Stages in project "${project}"`)
    const stage = await requireStage(deps.db, project, name)
    if (!stage.status.freightHistory?.[0])
      throw new ConflictError(`Stage "${name}" has no Freight to verify yet`)
    await restartStageVerification(deps.db, stage)
    return c.json(
      { stage: name, phase: 'Verifying', message: 'verification will run on the next reconcile' },
      202,
    )
  })

  app.post('/:project/stages/:stage/verification/abort', async (c) => {
    const { project, stage: name } = c.req.param()
    requireRole(
      c.get('actor'),
      canPromote(c.get('actor'), project),
      `abort verification in project "${project}"`,
    )
    const stage = await requireStage(deps.db, project, name)
    const aborted = await abortStageVerification(
      deps.db,
      stage,
      c.get('actor').name,
      deps.now?.() ?? new Date(),
    )
    if (!aborted) throw new ConflictError(`Stage "${name}" has no verification running`)
    return c.json({ stage: name, aborted: true })
  })
  return app
}
