import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { copyFiles } from './copy.js'

describe('copy', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('copy')
    writeFiles(workDir, {
      'src/app/values.yaml': 'a: 1\n',
      'src/app/templates/deploy.yaml': 'kind: Deployment\n',
      'src/app/debug.log': 'noise',
      'src/app/.git/HEAD': 'ref\n',
      'src/app/sub/.git/HEAD': 'ref\n',
      'src/app/script.sh': '#!/bin/sh\n',
    })
    fs.chmodSync(path.join(workDir, 'src/app/script.sh'), 0o755)
    fs.symlinkSync('values.yaml', path.join(workDir, 'src/app/link.yaml'))
  })
  const run = (cfg: unknown) => copyFiles.run(makeStepContext(workDir), copyFiles.config.parse(cfg))
  const list = (dir: string): string[] => {
    const out: string[] = []
    const walk = (d: string, prefix: string) => {
      for (const e of fs
        .readdirSync(d, { withFileTypes: true })
        .sort((a, b) => a.name.localeCompare(b.name))) {
        const rel = prefix ? `${prefix}/${e.name}` : e.name
        out.push(e.isDirectory() ? `${rel}/` : rel)
        if (e.isDirectory()) walk(path.join(d, e.name), rel)
      }
    }
    walk(path.join(workDir, dir), '')
    return out
  }

  it('copies a directory recursively: .git and symlinks skipped, modes kept', async () => {
    expect(await run({ inPath: 'src/app', outPath: 'out/app' })).toEqual({ status: 'Succeeded' })
    expect(list('out/app')).toEqual([
      'debug.log',
      'script.sh',
      'sub/',
      'templates/',
      'templates/deploy.yaml',
      'values.yaml',
    ])
    expect(fs.statSync(path.join(workDir, 'out/app/script.sh')).mode & 0o777).toBe(0o755)
  })

  it('merges into an existing directory, overwriting files', async () => {
    writeFiles(workDir, { 'out/values.yaml': 'old', 'out/other.txt': 'kept' })
    await run({ inPath: 'src/app/', outPath: 'out' })
    expect(fs.readFileSync(path.join(workDir, 'out/values.yaml'), 'utf8')).toBe('a: 1\n')
    expect(fs.readFileSync(path.join(workDir, 'out/other.txt'), 'utf8')).toBe('kept')
  })

  it('ignore takes .gitignore patterns relative to inPath', async () => {
    await run({ inPath: 'src/app', outPath: 'out', ignore: '# no logs\n*.log\n/templates\n' })
    expect(list('out')).toEqual(['script.sh', 'sub/', 'values.yaml'])
  })

  it('copies a file to an exact path, creating parents', async () => {
    await run({ inPath: 'src/app/values.yaml', outPath: 'stages/prod/values.yaml' })
    expect(fs.readFileSync(path.join(workDir, 'stages/prod/values.yaml'), 'utf8')).toBe('a: 1\n')
  })

  it('follows a symlink given as inPath when it stays inside the workspace', async () => {
    await run({ inPath: 'src/app/link.yaml', outPath: 'copied.yaml' })
    expect(fs.lstatSync(path.join(workDir, 'copied.yaml')).isFile()).toBe(true)
  })

  it('refuses to write through a symlink in outPath that leads outside', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'copy-outside-'))
    fs.mkdirSync(path.join(workDir, 'out'))
    fs.symlinkSync(outside, path.join(workDir, 'out/templates'))
    await expect(run({ inPath: 'src/app', outPath: 'out' })).rejects.toThrow(
      'leads outside the promotion workspace',
    )
    expect(fs.readdirSync(outside)).toEqual([])
  })

  it.each([
    {
      name: 'a missing inPath',
      cfg: { inPath: 'nope', outPath: 'out' },
      error: 'failed to copy "nope" to "out": no such file or directory',
    },
    {
      name: 'inPath escaping',
      cfg: { inPath: '../x', outPath: 'out' },
      error: 'escapes the promotion workspace',
    },
    {
      name: 'outPath escaping',
      cfg: { inPath: 'src', outPath: '../../out' },
      error: 'escapes the promotion workspace',
    },
    { name: 'outPath absolute', cfg: { inPath: 'src', outPath: '/tmp/out' }, error: 'must be relative' },
    {
      name: 'a directory into itself',
      cfg: { inPath: 'src', outPath: 'src/again' },
      error: 'cannot copy a directory into itself',
    },
    {
      name: 'a directory over a file',
      cfg: { inPath: 'src/app', outPath: 'src/app/values.yaml/x' },
      error: 'failed to copy',
    },
  ])('error: $name', async ({ cfg, error }) => {
    await expect(run(cfg)).rejects.toThrow(error)
  })

  it('refuses an inPath symlink leading outside the workspace', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'copy-secret-'))
    fs.writeFileSync(path.join(outside, 'secret'), 's')
    fs.symlinkSync(path.join(outside, 'secret'), path.join(workDir, 'secret'))
    await expect(run({ inPath: 'secret', outPath: 'out' })).rejects.toThrow(
      'leads outside the promotion workspace',
    )
  })
})
