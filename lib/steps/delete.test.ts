import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { deleteFiles } from './delete.js'

describe('delete', () => {
  let workDir: string
  let outside: string
  beforeEach(() => {
    workDir = makeWorkDir('delete')
    outside = fs.mkdtempSync(path.join(os.tmpdir(), 'delete-outside-'))
    fs.writeFileSync(path.join(outside, 'keep.txt'), 'precious')
    writeFiles(workDir, {
      'repo/manifests/a.yaml': 'a',
      'repo/manifests/b.yml': 'b',
      'repo/manifests/sub/c.yaml': 'c',
      'repo/manifests/.hidden.yaml': 'h',
      'repo/README.md': 'r',
    })
    fs.symlinkSync(outside, path.join(workDir, 'repo/outside-link'))
  })
  const run = (cfg: unknown) => deleteFiles.run(makeStepContext(workDir), deleteFiles.config.parse(cfg))
  const exists = (p: string) => fs.existsSync(path.join(workDir, p))

  it.each([
    {
      name: 'a file',
      cfg: { path: 'repo/README.md' },
      gone: ['repo/README.md'],
      kept: ['repo/manifests/a.yaml'],
    },
    {
      name: 'a directory, recursively',
      cfg: { path: 'repo/manifests' },
      gone: ['repo/manifests'],
      kept: ['repo/README.md'],
    },
    {
      name: 'several paths',
      cfg: { paths: ['repo/README.md', 'repo/manifests/sub'] },
      gone: ['repo/README.md', 'repo/manifests/sub'],
      kept: ['repo/manifests/a.yaml'],
    },
    { name: 'a missing path (not strict)', cfg: { path: 'repo/nope' }, gone: [], kept: ['repo/README.md'] },
    {
      name: 'a parent then its child',
      cfg: { paths: ['repo/manifests', 'repo/manifests/a.yaml'] },
      gone: ['repo/manifests'],
      kept: ['repo/README.md'],
    },
    {
      name: 'a glob (dotfiles match *)',
      cfg: { path: 'repo/manifests/*.yaml', pathsAreGlobs: true },
      gone: ['repo/manifests/a.yaml', 'repo/manifests/.hidden.yaml'],
      kept: ['repo/manifests/b.yml', 'repo/manifests/sub/c.yaml'],
    },
    {
      name: 'a ** glob with braces',
      cfg: { paths: ['./repo/**/*.{yaml,yml}'], pathsAreGlobs: true },
      gone: ['repo/manifests/a.yaml', 'repo/manifests/b.yml', 'repo/manifests/sub/c.yaml'],
      kept: ['repo/README.md', 'repo/manifests/sub'],
    },
  ])('deletes $name', async ({ cfg, gone, kept }) => {
    expect(await run(cfg)).toEqual({ status: 'Succeeded' })
    for (const p of gone) expect(exists(p), p).toBe(false)
    for (const p of kept) expect(exists(p), p).toBe(true)
  })

  it('removes a symlink as a link, never its target', async () => {
    await run({ path: 'repo/outside-link' })
    expect(fs.existsSync(path.join(workDir, 'repo/outside-link'))).toBe(false)
    expect(fs.readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('precious')
  })

  it.each([
    {
      name: 'strict: a missing path',
      cfg: { path: 'repo/nope', strict: true },
      error: 'path "repo/nope" does not exist',
    },
    {
      name: 'strict: a glob matching nothing',
      cfg: { path: '**/*.json', pathsAreGlobs: true, strict: true },
      error: 'no paths matched pattern "**/*.json"',
    },
    { name: 'a parent escape', cfg: { path: '../x' }, error: 'escapes the promotion workspace' },
    { name: 'an absolute path', cfg: { path: '/etc/passwd' }, error: 'must be relative' },
    {
      name: 'through a symlink leading outside',
      cfg: { path: 'repo/outside-link/keep.txt' },
      error: 'path attempts to traverse outside the working directory',
    },
    { name: 'the workspace itself', cfg: { path: '.' }, error: 'the promotion workspace itself' },
    {
      name: 'a glob climbing out',
      cfg: { path: '../*', pathsAreGlobs: true },
      error: 'must stay inside the workspace',
    },
    { name: 'an invalid glob', cfg: { path: 'repo/[', pathsAreGlobs: true }, error: 'invalid glob pattern' },
  ])('error: $name', async ({ cfg, error }) => {
    await expect(run(cfg)).rejects.toThrow(error)
    expect(fs.readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('precious')
    expect(exists('repo/README.md')).toBe(true)
  })

  it.each([
    { name: 'neither path nor paths', cfg: {} },
    { name: 'both path and paths', cfg: { path: 'a', paths: ['b'] } },
    { name: 'empty paths', cfg: { paths: [] } },
  ])('config rejects $name', ({ cfg }) => {
    expect(deleteFiles.config.safeParse(cfg).success).toBe(false)
  })
})
