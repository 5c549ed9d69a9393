import { z } from 'zod'
import { setCondition } from '../model/meta.js'
import type { Db } from '../store/client.js'
import { updateStageStatus, type Stage } from '../store/stages.js'

/*
 * External test results (`dev.cdevents.testsuiterun.finished`) a Stage can require before its Freight counts as
 * verified, beside or instead of AnalysisTemplates. Kargo's Stage has no field for this, so it is an annotation:
 *
 *   metadata:
 *     annotations:
 *       tugboat.io/required-test-suites: e2e, smoke   # each must report success for the current Freight
 *       tugboat.io/required-test-suites: "*"          # any one successful test suite run will do
 *
 * Results are kept on the Stage's current FreightCollection, so promoting new Freight starts afresh.
 */

export const REQUIRED_TEST_SUITES_ANNOTATION = 'tugboat.io/required-test-suites'

/** Matches a result of any test suite. */
export const ANY_TEST_SUITE = '*'

export const TestSuiteResultSchema = z.object({
  /** The inbound event's id: a replayed event does not add a second entry. */
  id: z.string(),
  /** The test suite's name or id from the event; absent when the event named none. */
  suite: z.string().optional(),
  outcome: z.enum(['success', 'failure', 'cancel', 'error']),
  actor: z.string().optional(),
  message: z.string().optional(),
  receivedAt: z.string(),
})
export type TestSuiteResult = z.infer<typeof TestSuiteResultSchema>

/** How many results a FreightCollection keeps (newest first). */
const RESULTS_KEPT = 20

/** The suites a Stage requires, from its annotation; empty when it requires none. */
export function requiredTestSuites(stage: Pick<Stage, 'resource'>): string[] {
  const raw = stage.resource.metadata.annotations?.[REQUIRED_TEST_SUITES_ANNOTATION] ?? ''
  return [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ]
}

/** The results recorded for the Stage's current Freight, newest first. */
export function currentTestSuiteResults(stage: Stage): TestSuiteResult[] {
  const raw = (stage.status.freightHistory?.[0] as { testSuiteResults?: unknown } | undefined)
    ?.testSuiteResults
  return z
    .array(TestSuiteResultSchema)
    .catch([])
    .parse(raw ?? [])
}

/** Required suites without a successful result for the current Freight yet. */
export function missingTestSuites(stage: Stage): string[] {
  const required = requiredTestSuites(stage)
  if (!required.length) return []
  const passed = currentTestSuiteResults(stage).filter((r) => r.outcome === 'success')
  return required.filter((suite) =>
    suite === ANY_TEST_SUITE ? passed.length === 0 : !passed.some((r) => r.suite === suite),
  )
}

/**
 * Adds a result to the Stage's current FreightCollection (`collectionId` guards against the Stage having moved on
 * to other Freight meanwhile). Returns the Stage as written.
 */
export async function addTestSuiteResult(
  db: Db,
  stage: Stage,
  collectionId: string,
  result: TestSuiteResult,
): Promise<Stage> {
  return updateStageStatus(db, stage.project, stage.name, (status) => {
    const head = status.freightHistory?.[0] as
      | (NonNullable<typeof status.freightHistory>[number] & { testSuiteResults?: TestSuiteResult[] })
      | undefined
    if (!head || head.id !== collectionId) return undefined
    const previous = z
      .array(TestSuiteResultSchema)
      .catch([])
      .parse(head.testSuiteResults ?? [])
    if (previous.some((r) => r.id === result.id)) return undefined
    head.testSuiteResults = [result, ...previous].slice(0, RESULTS_KEPT)
    return status
  })
}

/** Shows, on the Stage's `Verified` condition, which test suites verification is waiting for. */
export async function markAwaitingTestSuites(
  db: Db,
  stage: Stage,
  missing: string[],
  now: Date,
): Promise<void> {
  const message =
    missing[0] === ANY_TEST_SUITE && missing.length === 1
      ? 'waiting for a successful test suite result (dev.cdevents.testsuiterun.finished)'
      : `waiting for successful test suite result(s): ${missing.join(', ')}`
  const existing = stage.status.conditions?.find((c) => c.type === 'Verified')
  if (existing?.status === 'Unknown' && existing.message === message) return
  await updateStageStatus(db, stage.project, stage.name, (status) => ({
    ...status,
    conditions: setCondition(
      status.conditions,
      { type: 'Verified', status: 'Unknown', reason: 'AwaitingTestResults', message },
      now,
    ),
  }))
}
