import { describe, expect, it } from 'vitest'
import { NotFoundError, TerminalError } from '../errors.js'
import { makeStepContext, recordingKargo } from '../files/test-context.js'
import { setFreightAlias } from './set-freight-alias.js'

describe('set-freight-alias', () => {
  const config = setFreightAlias.config.parse({ name: 'a1b2c3', alias: 'release-1' })

  it('asks Kargo to set the alias', async () => {
    const kargo = recordingKargo()
    const result = await setFreightAlias.run(makeStepContext('/nonexistent', { kargo }), config)
    expect(result).toEqual({
      status: 'Succeeded',
      message: 'updated alias of Freight "a1b2c3" to "release-1"',
    })
    expect(kargo.calls).toEqual([['setFreightAlias', 'a1b2c3', 'release-1']])
  })

  it('a refusal (unknown Freight, alias taken) makes the step Failed', async () => {
    const kargo = recordingKargo(() => new NotFoundError('freight "a1b2c3" not found'))
    const result = await setFreightAlias.run(makeStepContext('/nonexistent', { kargo }), config)
    expect(result).toEqual({
      status: 'Failed',
      message: 'failed to patch alias for Freight "a1b2c3" in project "demo": freight "a1b2c3" not found',
    })
  })

  it('without Kargo access it is a terminal error', async () => {
    await expect(setFreightAlias.run(makeStepContext('/nonexistent'), config)).rejects.toThrow(TerminalError)
  })

  it.each([{ name: 'x' }, { name: '', alias: 'y' }, { name: 'x', alias: 'y', extra: 1 }])(
    'config rejects %j',
    (cfg) => {
      expect(setFreightAlias.config.safeParse(cfg).success).toBe(false)
    },
  )
})
