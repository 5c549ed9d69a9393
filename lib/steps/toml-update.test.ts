import fs from 'node:fs'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { tomlUpdate } from './toml-update.js'

const cargo = `# The manifest
[package]
name = "app"    # the crate
version = "1.0.0" # bumped by Kargo

[features]
newFeature = false

[[bin]]
name = "one"

[[bin]]
name = "two"
`

describe('toml-update', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('toml-update')
    writeFiles(workDir, { 'Cargo.toml': cargo })
  })
  const run = (cfg: unknown) => tomlUpdate.run(makeStepContext(workDir), tomlUpdate.config.parse(cfg))
  const read = () => fs.readFileSync(path.join(workDir, 'Cargo.toml'), 'utf8')

  it('replaces value tokens only, keeping comments and layout', async () => {
    const result = await run({
      path: 'Cargo.toml',
      updates: [
        { key: 'package.version', value: '1.0.1' },
        { key: 'features.newFeature', value: true },
        { key: 'bin.1.name', value: 'deux' },
      ],
    })
    expect(read()).toBe(
      cargo
        .replace('version = "1.0.0" # bumped', "version = '1.0.1' # bumped")
        .replace('newFeature = false', 'newFeature = true')
        .replace('name = "two"', "name = 'deux'"),
    )
    expect(result).toEqual({
      status: 'Succeeded',
      output: {
        commitMessage:
          "Updated Cargo.toml\n\n- package.version: '1.0.1'\n- features.newFeature: true\n- bin.1.name: 'deux'",
      },
    })
  })

  it('writes numbers as go-toml writes a float64', async () => {
    writeFiles(workDir, { 'c.toml': 'port = 8080\n' })
    const result = await run({ path: 'c.toml', updates: [{ key: 'port', value: 9090 }] })
    expect(fs.readFileSync(path.join(workDir, 'c.toml'), 'utf8')).toBe('port = 9090.0\n')
    expect(result.output).toEqual({ commitMessage: 'Updated c.toml\n\n- port: 9090.0' })
  })

  it.each([
    {
      name: 'a missing key',
      key: 'package.edition',
      error: 'error finding key package.edition: key path not found',
    },
    { name: 'a table', key: 'package', error: 'key path addresses Table instead of a scalar node' },
    {
      name: 'an array of tables',
      key: 'bin',
      error: 'key path addresses ArrayTable instead of a scalar node',
    },
  ])('error, file untouched: $name', async ({ key, error }) => {
    await expect(run({ path: 'Cargo.toml', updates: [{ key, value: 'x' }] })).rejects.toThrow(error)
    expect(read()).toBe(cargo)
  })

  it.each([
    { name: 'a parent escape', path: '../Cargo.toml', error: 'escapes the promotion workspace' },
    { name: 'an absolute path', path: '/Cargo.toml', error: 'must be relative' },
  ])('refuses $name', async ({ path: p, error }) => {
    await expect(run({ path: p, updates: [{ key: 'a', value: 1 }] })).rejects.toThrow(error)
  })
})
