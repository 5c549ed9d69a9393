import { randomUUID } from 'node:crypto'
import { setCondition } from '../model/meta.js'
import { StageStatusSchema, type StageStatus, type VerificationInfo } from '../model/stage-status.js'
import type { Db } from '../store/client.js'
import { updateTogether, type StoredResource } from '../store/resources.js'
import { verificationEvent } from '../events/builders.js'
import { outboxItems } from '../events/outbox.js'
import type { Stage } from '../store/stages.js'

/**
 * Records a verification result for the Stage's current Freight: the Stage's verificationHistory and phase,
 * and on success `verifiedIn[stage]` on every piece of the current Freight, all in one transaction.
 */
export async function recordVerification(
  db: Db,
  stage: Stage,
  result: {
    id?: string
    phase: string
    message?: string
    actor?: string
    startTime?: string
    finishTime?: string
    analysisRun?: Record<string, unknown>
  },
  now = new Date(),
): Promise<void> {
  const current = stage.status.freightHistory?.[0]
  if (!current) return
  const info: VerificationInfo = {
    ...result,
    id: result.id ?? randomUUID(),
    finishTime: result.finishTime ?? now.toISOString(),
  }
  const succeeded = info.phase === 'Successful'
  const freightNames = Object.values(current.items).map((f) => f.name)
  await updateTogether(
    db,
    [
      {
        ref: { project: stage.project, kind: 'Stage', name: stage.name },
        change: (resource: StoredResource) => {
          const status: StageStatus = StageStatusSchema.parse(resource.status ?? {})
          const head = status.freightHistory?.[0]
          if (!head || head.id !== current.id) return undefined
          head.verificationHistory = [
            info,
            ...(head.verificationHistory ?? []).filter((v) => v.id !== info.id),
          ].slice(0, 10)
          status.phase = succeeded ? 'Steady' : 'Failed'
          status.conditions = setCondition(
            status.conditions,
            {
              type: 'Verified',
              status: succeeded ? 'True' : 'False',
              reason: succeeded ? 'Verified' : `Verification${info.phase}`,
              message: info.message ?? `verification ${info.phase.toLowerCase()}`,
            },
            now,
          )
          status.conditions = setCondition(
            status.conditions,
            {
              type: 'Ready',
              status: succeeded ? 'True' : 'False',
              reason: succeeded ? 'Ready' : 'VerificationFailed',
              message: succeeded
                ? 'the current Freight is verified'
                : (info.message ?? 'verification failed'),
            },
            now,
          )
          return { ...resource, status }
        },
      },
      ...(succeeded
        ? freightNames.map((name) => ({
            ref: { project: stage.project, kind: 'Freight', name },
            optional: true,
            change: (resource: StoredResource) => {
              const status = { ...(resource.status ?? {}) } as {
                verifiedIn?: Record<string, { verifiedAt?: string; longestSoak?: string }>
              }
              if (status.verifiedIn?.[stage.name]) return undefined
              status.verifiedIn = { ...status.verifiedIn, [stage.name]: { verifiedAt: now.toISOString() } }
              return { ...resource, status }
            },
          }))
        : []),
    ],
    8,
    () =>
      outboxItems(db, [
        verificationEvent(
          {
            project: stage.project,
            stage: stage.name,
            freight: { name: freightNames[0]! },
            verification: {
              id: info.id,
              phase: info.phase,
              ...(info.message ? { message: info.message } : {}),
            },
            ...(info.actor ? { actor: info.actor } : {}),
          },
          { now },
        ),
      ]),
  )
}
