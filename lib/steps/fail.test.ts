import { describe, expect, it } from 'vitest'
import { makeStepContext } from '../files/test-context.js'
import { fail } from './fail.js'

describe('fail', () => {
  it.each([
    {
      name: 'with a message',
      config: { message: 'tests did not pass' },
      message: 'failed: tests did not pass',
    },
    { name: 'without one', config: {}, message: 'failed' },
  ])('$name', async ({ config, message }) => {
    expect(await fail.run(makeStepContext('/nonexistent'), fail.config.parse(config))).toEqual({
      status: 'Failed',
      message,
    })
  })

  it.each([{ message: '' }, { message: 'x', extra: 1 }])('config rejects %j', (config) => {
    expect(fail.config.safeParse(config).success).toBe(false)
  })
})
