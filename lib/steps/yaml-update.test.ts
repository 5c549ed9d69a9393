import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { yamlUpdate } from './yaml-update.js'

const values = `# Default values for my-chart.
replicaCount: 1

image:
  repository: nginx # the image
  pullPolicy: IfNotPresent
  # Overrides the image tag whose default is the chart appVersion.
  tag: "1.25.0"

podAnnotations: {}
service:
  type: ClusterIP
  port: 80
`

describe('yaml-update', () => {
  let workDir: string
  const file = 'src/charts/my-chart/values.yaml'
  beforeEach(() => {
    workDir = makeWorkDir('yaml-update')
    writeFiles(workDir, { [file]: values })
  })
  const run = (config: unknown) => yamlUpdate.run(makeStepContext(workDir), yamlUpdate.config.parse(config))
  const read = () => fs.readFileSync(path.join(workDir, file), 'utf8')

  it("Kargo's example: a Helm values image tag, comments and order kept", async () => {
    const result = await run({ path: `./${file}`, updates: [{ key: 'image.tag', value: '1.26.1' }] })
    expect(result).toEqual({
      status: 'Succeeded',
      output: { commitMessage: `Updated ./${file}\n\n- image.tag: 1.26.1` },
    })
    expect(read()).toBe(values.replace('tag: "1.25.0"', 'tag: 1.26.1'))
  })

  it.each([
    {
      name: 'a string that looks like a number is quoted',
      key: 'service.port',
      value: '42',
      line: '  port: "42"',
      msg: '"42"',
    },
    {
      name: 'a string that looks like a bool is quoted',
      key: 'image.pullPolicy',
      value: 'true',
      line: '  pullPolicy: "true"',
      msg: '"true"',
    },
    { name: 'a number stays a number', key: 'replicaCount', value: 3, line: 'replicaCount: 3', msg: '3' },
    {
      name: 'a bool stays a bool',
      key: 'image.pullPolicy',
      value: false,
      line: '  pullPolicy: false',
      msg: 'false',
    },
    {
      name: 'the inline comment of the edited line is lost',
      key: 'image.repository',
      value: 'ghcr.io/x/nginx',
      line: '  repository: ghcr.io/x/nginx',
      msg: 'ghcr.io/x/nginx',
    },
  ])('$name', async ({ key, value, line, msg }) => {
    const result = await run({ path: file, updates: [{ key, value }] })
    expect(read()).toContain(`\n${line}\n`)
    expect(result.output).toEqual({ commitMessage: `Updated ${file}\n\n- ${key}: ${msg}` })
  })

  it('applies several updates in one pass', async () => {
    await run({
      path: file,
      updates: [
        { key: 'image.tag', value: '2.0.0' },
        { key: 'service.type', value: 'LoadBalancer' },
      ],
    })
    expect(read()).toBe(
      values.replace('tag: "1.25.0"', 'tag: 2.0.0').replace('type: ClusterIP', 'type: LoadBalancer'),
    )
  })

  it.each([
    {
      name: 'a missing key',
      updates: [{ key: 'image.digest', value: 'x' }],
      error: 'error finding key image.digest: key path not found',
    },
    {
      name: 'a key holding a map',
      updates: [{ key: 'image', value: 'x' }],
      error: 'key path does not address a scalar node',
    },
    {
      name: 'a key holding an empty map',
      updates: [{ key: 'podAnnotations', value: 'x' }],
      error: 'does not address a scalar node',
    },
  ])('error, file untouched: $name', async ({ updates, error }) => {
    const attempt = run({ path: file, updates })
    await expect(attempt).rejects.toThrow(TerminalError)
    await expect(run({ path: file, updates })).rejects.toThrow(error)
    expect(read()).toBe(values)
  })

  it('a missing file is an error', async () => {
    await expect(run({ path: 'nope.yaml', updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(
      'no such file or directory',
    )
  })

  it.each([
    { name: 'a parent escape', path: '../outside.yaml', error: 'escapes the promotion workspace' },
    { name: 'an absolute path', path: '/etc/passwd', error: 'must be relative' },
  ])('refuses $name', async ({ path: p, error }) => {
    await expect(run({ path: p, updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(error)
  })

  it('refuses a symlink leading outside the workspace', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'yaml-update-outside-'))
    fs.writeFileSync(path.join(outside, 'values.yaml'), 'a: 1\n')
    fs.symlinkSync(outside, path.join(workDir, 'link'))
    await expect(run({ path: 'link/values.yaml', updates: [{ key: 'a', value: 2 }] })).rejects.toThrow(
      'leads outside the promotion workspace',
    )
    expect(fs.readFileSync(path.join(outside, 'values.yaml'), 'utf8')).toBe('a: 1\n')
  })

  it.each([
    { name: 'no updates', config: { path: 'a.yaml', updates: [] } },
    { name: 'an update without value', config: { path: 'a.yaml', updates: [{ key: 'a' }] } },
    { name: 'an unknown field', config: { path: 'a.yaml', updates: [{ key: 'a', value: 1 }], extra: true } },
    { name: 'an empty key', config: { path: 'a.yaml', updates: [{ key: '', value: 1 }] } },
  ])('config rejects $name', ({ config }) => {
    expect(yamlUpdate.config.safeParse(config).success).toBe(false)
  })

  it('config accepts a null value', () => {
    expect(
      yamlUpdate.config.safeParse({ path: 'a.yaml', updates: [{ key: 'a', value: null }] }).success,
    ).toBe(true)
  })
})
