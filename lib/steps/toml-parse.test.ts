import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { tomlParse } from './toml-parse.js'

const cargo = `[package]
name = "app"
version = "0.4.2"
edition = "2021"

[dependencies]
serde = { version = "1.0", features = ["derive"] }

[[bin]]
name = "cli"
`

describe('toml-parse', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('toml-parse')
    writeFiles(workDir, { 'Cargo.toml': cargo, 'empty.toml': '', 'bad.toml': 'a = \n' })
  })
  const run = (cfg: unknown) => tomlParse.run(makeStepContext(workDir), tomlParse.config.parse(cfg))

  it('evaluates each expression with the document as the environment', async () => {
    const result = await run({
      path: 'Cargo.toml',
      outputs: [
        { name: 'version', fromExpression: 'package.version' },
        { name: 'serde', fromExpression: 'dependencies.serde.version' },
        { name: 'derive', fromExpression: '"derive" in dependencies.serde.features' },
        { name: 'bin', fromExpression: 'bin[0].name' },
      ],
    })
    expect(result).toEqual({
      status: 'Succeeded',
      output: { version: '0.4.2', serde: '1.0', derive: true, bin: 'cli' },
    })
  })

  it.each([
    { name: 'an empty file', path: 'empty.toml', error: 'could not parse empty TOML file' },
    { name: 'invalid TOML', path: 'bad.toml', error: 'could not parse TOML file' },
    { name: 'a parent escape', path: '../Cargo.toml', error: 'escapes the promotion workspace' },
  ])('error: $name', async ({ path, error }) => {
    await expect(run({ path, outputs: [{ name: 'x', fromExpression: 'a' }] })).rejects.toThrow(error)
  })
})
