import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { yamlParse } from './yaml-parse.js'

const chart = `apiVersion: v2
name: my-chart
version: 1.2.3
appVersion: "2.0"
defaults: &defaults
  replicas: 2
prod:
  <<: *defaults
  region: eu
images:
- repository: nginx
  tag: 1.25.0
- repository: redis
  tag: "7"
`

describe('yaml-parse', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('yaml-parse')
    writeFiles(workDir, {
      'charts/app/Chart.yaml': chart,
      'empty.yaml': '',
      'bad.yaml': 'a: [\n',
      'list.yaml': '- 1\n- 2\n',
    })
  })
  const run = (cfg: unknown) => yamlParse.run(makeStepContext(workDir), yamlParse.config.parse(cfg))

  it('evaluates each expression with the document as the environment', async () => {
    const result = await run({
      path: 'charts/app/Chart.yaml',
      outputs: [
        { name: 'version', fromExpression: 'version' },
        { name: 'appVersion', fromExpression: 'appVersion' },
        { name: 'firstTag', fromExpression: 'images[0].tag' },
        { name: 'repos', fromExpression: 'map(images, .repository)' },
        { name: 'replicas', fromExpression: 'prod.replicas' },
        { name: 'missing', fromExpression: 'nothing' },
        { name: 'ref', fromExpression: 'name + ":" + version' },
      ],
    })
    expect(result).toEqual({
      status: 'Succeeded',
      output: {
        version: '1.2.3',
        appVersion: '2.0',
        firstTag: '1.25.0',
        repos: ['nginx', 'redis'],
        replicas: 2,
        missing: null,
        ref: 'my-chart:1.2.3',
      },
    })
  })

  it('a document that is not a map gives an empty environment', async () => {
    const result = await run({ path: 'list.yaml', outputs: [{ name: 'x', fromExpression: '1 + 1' }] })
    expect(result.output).toEqual({ x: 2 })
  })

  it.each([
    { name: 'an empty file', path: 'empty.yaml', expression: 'a', error: 'could not parse empty YAML file' },
    { name: 'invalid YAML', path: 'bad.yaml', expression: 'a', error: 'could not parse YAML file' },
    { name: 'a missing file', path: 'nope.yaml', expression: 'a', error: 'no such file or directory' },
    {
      name: 'a bad expression',
      path: 'charts/app/Chart.yaml',
      expression: 'version +',
      error: 'failed to extract outputs',
    },
    {
      name: 'a parent escape',
      path: '../Chart.yaml',
      expression: 'a',
      error: 'escapes the promotion workspace',
    },
    { name: 'an absolute path', path: '/etc/hosts', expression: 'a', error: 'must be relative' },
  ])('error: $name', async ({ path, expression, error }) => {
    await expect(run({ path, outputs: [{ name: 'x', fromExpression: expression }] })).rejects.toThrow(error)
  })
})
