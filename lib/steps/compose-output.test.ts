import { describe, expect, it } from 'vitest'
import { makeStepContext } from '../files/test-context.js'
import { composeOutput } from './compose-output.js'

describe('compose-output', () => {
  it('turns each config key into an output', async () => {
    const config = { prURL: 'https://github.com/org/repo/pull/7', merged: true, info: { n: 1 } }
    const result = await composeOutput.run(
      makeStepContext('/nonexistent'),
      composeOutput.config.parse(config),
    )
    expect(result).toEqual({ status: 'Succeeded', output: config })
  })

  it.each([
    { name: 'an empty object', config: {} },
    { name: 'not an object', config: 'x' },
  ])('config rejects $name', ({ config }) => {
    expect(composeOutput.config.safeParse(config).success).toBe(false)
  })
})
