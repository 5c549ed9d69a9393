import fs from 'node:fs'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { TerminalError } from '../errors.js'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { jsonUpdate } from './json-update.js'

const config = `{
  "app": {
    "image": "nginx:1.25.0",
    "replicas": 2,
    "debug": false
  },
  "tags": ["a", "b"]
}
`

describe('json-update', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('json-update')
    writeFiles(workDir, { 'env/config.json': config })
  })
  const run = (cfg: unknown) => jsonUpdate.run(makeStepContext(workDir), jsonUpdate.config.parse(cfg))
  const read = () => fs.readFileSync(path.join(workDir, 'env/config.json'), 'utf8')

  it('replaces values in place and lists them in the commit message', async () => {
    const result = await run({
      path: 'env/config.json',
      updates: [
        { key: 'app.image', value: 'nginx:1.26.0' },
        { key: 'app.replicas', value: 3 },
        { key: 'app.debug', value: true },
        { key: 'tags.1', value: '42' },
      ],
    })
    expect(read()).toBe(
      config
        .replace('"nginx:1.25.0"', '"nginx:1.26.0"')
        .replace('"replicas": 2', '"replicas": 3')
        .replace('"debug": false', '"debug": true')
        .replace('["a", "b"]', '["a", "42"]'),
    )
    expect(result).toEqual({
      status: 'Succeeded',
      output: {
        commitMessage:
          'Updated env/config.json\n\n- app.image: "nginx:1.26.0"\n- app.replicas: 3\n- app.debug: true\n- tags.1: "42"',
      },
    })
  })

  it('creates a missing key the way sjson does', async () => {
    await run({ path: 'env/config.json', updates: [{ key: 'app.version', value: '1.0' }] })
    expect(read()).toBe(config.replace('"debug": false\n  }', '"debug": false\n  ,"version":"1.0"}'))
  })

  it.each([
    { name: 'an object value', value: { a: 1 }, error: 'value for key "app.image" is not a scalar type' },
    { name: 'a null value', value: null, error: 'is not a scalar type' },
  ])('error: $name', async ({ value, error }) => {
    await expect(run({ path: 'env/config.json', updates: [{ key: 'app.image', value }] })).rejects.toThrow(
      error,
    )
    expect(read()).toBe(config)
  })

  it('error: a non-numeric key into an array', async () => {
    const attempt = run({ path: 'env/config.json', updates: [{ key: 'tags.x', value: 1 }] })
    await expect(attempt).rejects.toThrow(TerminalError)
    await expect(run({ path: 'env/config.json', updates: [{ key: 'tags.x', value: 1 }] })).rejects.toThrow(
      "cannot set array element for non-numeric key 'x'",
    )
  })

  it('error: invalid JSON', async () => {
    writeFiles(workDir, { 'bad.json': '{"a": 1,}' })
    await expect(run({ path: 'bad.json', updates: [{ key: 'a', value: 2 }] })).rejects.toThrow('invalid JSON')
  })

  it.each([
    { name: 'a parent escape', path: '../x.json', error: 'escapes the promotion workspace' },
    { name: 'an absolute path', path: '/tmp/x.json', error: 'must be relative' },
    { name: 'a missing file', path: 'missing.json', error: 'no such file or directory' },
  ])('refuses $name', async ({ path: p, error }) => {
    await expect(run({ path: p, updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(error)
  })
})
