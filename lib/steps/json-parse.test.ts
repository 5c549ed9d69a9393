import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { jsonParse } from './json-parse.js'

describe('json-parse', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('json-parse')
    writeFiles(workDir, {
      'package.json': JSON.stringify({
        name: 'web',
        version: '3.1.0',
        dependencies: { react: '^18.2.0' },
        ports: [80, 443],
      }),
      'bad.json': '{"a": ',
    })
  })
  const run = (cfg: unknown) => jsonParse.run(makeStepContext(workDir), jsonParse.config.parse(cfg))

  it('evaluates each expression with the document as the environment', async () => {
    const result = await run({
      path: 'package.json',
      outputs: [
        { name: 'version', fromExpression: 'version' },
        { name: 'react', fromExpression: "dependencies['react']" },
        { name: 'https', fromExpression: '443 in ports' },
      ],
    })
    expect(result).toEqual({
      status: 'Succeeded',
      output: { version: '3.1.0', react: '^18.2.0', https: true },
    })
  })

  it.each([
    { name: 'invalid JSON', path: 'bad.json', error: 'could not parse JSON file' },
    { name: 'a missing file', path: 'missing.json', error: 'no such file or directory' },
    { name: 'a parent escape', path: '../package.json', error: 'escapes the promotion workspace' },
  ])('error: $name', async ({ path, error }) => {
    await expect(run({ path, outputs: [{ name: 'x', fromExpression: 'a' }] })).rejects.toThrow(error)
  })

  it('config rejects an output without a name', () => {
    expect(jsonParse.config.safeParse({ path: 'a.json', outputs: [{ fromExpression: 'a' }] }).success).toBe(
      false,
    )
    expect(jsonParse.config.safeParse({ path: 'a.json', outputs: [] }).success).toBe(false)
  })
})
