import fs from 'node:fs'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { yamlMerge } from './yaml-merge.js'

describe('yaml-merge', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('yaml-merge')
    writeFiles(workDir, {
      'base/values.yaml': '# base\nimage:\n  repository: nginx\n  tag: 1.25.0\nreplicas: 1\nports:\n- 80\n',
      'stages/prod/values.yaml': 'image:\n  tag: 1.26.0\nreplicas: 3\nports:\n- 443\n',
      'empty.yaml': '',
    })
  })
  const run = (cfg: unknown) => yamlMerge.run(makeStepContext(workDir), yamlMerge.config.parse(cfg))
  const read = (p: string) => fs.readFileSync(path.join(workDir, p), 'utf8')

  it('merges the files in order into outFile, later files winning', async () => {
    const result = await run({
      inFiles: ['base/values.yaml', 'empty.yaml', 'stages/prod/values.yaml'],
      outFile: 'out/prod/values.yaml',
    })
    expect(read('out/prod/values.yaml')).toBe(
      '# base\nimage:\n  repository: nginx\n  tag: 1.26.0\nreplicas: 3\nports:\n- 443\n',
    )
    expect(result).toEqual({
      status: 'Succeeded',
      output: {
        commitMessage:
          'Merged 3 YAML files to out/prod/values.yaml\n- base/values.yaml\n- empty.yaml\n- stages/prod/values.yaml',
      },
    })
  })

  it('one input: "Wrote … to …"', async () => {
    const result = await run({ inFiles: ['base/values.yaml'], outFile: 'base/values.yaml' })
    expect(result.output).toEqual({ commitMessage: 'Wrote base/values.yaml to base/values.yaml' })
  })

  it('ignoreMissingFiles skips missing inputs; with none left, the output is empty and there is no message', async () => {
    const result = await run({ inFiles: ['missing.yaml'], outFile: 'out.yaml', ignoreMissingFiles: true })
    expect(result).toEqual({ status: 'Succeeded' })
    expect(read('out.yaml')).toBe('')
  })

  it.each([
    {
      name: 'a missing input',
      cfg: { inFiles: ['missing.yaml'], outFile: 'out.yaml' },
      error: 'input file "missing.yaml" not found',
    },
    {
      name: 'an input escaping the workspace',
      cfg: { inFiles: ['../x.yaml'], outFile: 'out.yaml' },
      error: 'escapes the promotion workspace',
    },
    {
      name: 'an output escaping the workspace',
      cfg: { inFiles: ['empty.yaml'], outFile: '../out.yaml' },
      error: 'escapes the promotion workspace',
    },
  ])('error: $name', async ({ cfg, error }) => {
    await expect(run(cfg)).rejects.toThrow(error)
  })
})
