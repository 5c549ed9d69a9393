import { describe, expect, it } from 'vitest'
import { TerminalError, UpstreamError } from '../errors.js'
import { makeStepContext, recordingKargo } from '../files/test-context.js'
import { setMetadata } from './set-metadata.js'

describe('set-metadata', () => {
  const config = setMetadata.config.parse({
    updates: [
      { kind: 'Stage', name: 'prod', values: { lastTestRun: 'passed', score: 0.97 } },
      { kind: 'Freight', name: 'a1b2c3', values: { approvedBy: 'qa' } },
    ],
  })

  it('merges each update into the named resource, in order', async () => {
    const kargo = recordingKargo()
    expect(await setMetadata.run(makeStepContext('/nonexistent', { kargo }), config)).toEqual({
      status: 'Succeeded',
    })
    expect(kargo.calls).toEqual([
      ['setMetadata', { kind: 'Stage', name: 'prod' }, { lastTestRun: 'passed', score: 0.97 }],
      ['setMetadata', { kind: 'Freight', name: 'a1b2c3' }, { approvedBy: 'qa' }],
    ])
  })

  it('a failed update is a (retryable) error naming the resource', async () => {
    const kargo = recordingKargo(() => new UpstreamError('throttled'))
    const attempt = setMetadata.run(makeStepContext('/nonexistent', { kargo }), config)
    await expect(attempt).rejects.toThrow(
      'error updating metadata for Stage "prod" in project "demo": throttled',
    )
    await expect(
      setMetadata.run(makeStepContext('/nonexistent', { kargo }), config),
    ).rejects.not.toBeInstanceOf(TerminalError)
  })

  it('without Kargo access it is a terminal error', async () => {
    await expect(setMetadata.run(makeStepContext('/nonexistent'), config)).rejects.toThrow(TerminalError)
  })

  it.each([
    { name: 'no updates', cfg: { updates: [] } },
    { name: 'an unknown kind', cfg: { updates: [{ kind: 'Warehouse', name: 'w', values: { a: 1 } }] } },
    { name: 'empty values', cfg: { updates: [{ kind: 'Stage', name: 's', values: {} }] } },
    { name: 'no name', cfg: { updates: [{ kind: 'Stage', values: { a: 1 } }] } },
  ])('config rejects $name', ({ cfg }) => {
    expect(setMetadata.config.safeParse(cfg).success).toBe(false)
  })
})
