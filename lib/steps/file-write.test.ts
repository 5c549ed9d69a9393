import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { fileWrite } from './file-write.js'

describe('file-write', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('file-write')
  })
  const run = (cfg: unknown) => fileWrite.run(makeStepContext(workDir), fileWrite.config.parse(cfg))
  const read = (p: string) => fs.readFileSync(path.join(workDir, p), 'utf8')
  const mode = (p: string) => fs.statSync(path.join(workDir, p)).mode & 0o777

  it('writes a new file (parents created, mode 0600 by default)', async () => {
    expect(await run({ path: 'out/notes/release.md', contents: '# v1.2.3\n' })).toEqual({
      status: 'Succeeded',
    })
    expect(read('out/notes/release.md')).toBe('# v1.2.3\n')
    expect(mode('out/notes/release.md')).toBe(0o600)
  })

  it('applies permissions', async () => {
    await run({ path: 'a.txt', contents: 'x', permissions: '0640' })
    expect(mode('a.txt')).toBe(0o640)
  })

  it('replaces an existing file only with overwrite', async () => {
    writeFiles(workDir, { 'a.txt': 'old' })
    await expect(run({ path: 'a.txt', contents: 'new' })).rejects.toThrow(
      'file "a.txt" already exists; set overwrite to true to replace it',
    )
    await run({ path: 'a.txt', contents: 'new', overwrite: true, permissions: '0644' })
    expect(read('a.txt')).toBe('new')
    expect(mode('a.txt')).toBe(0o644)
  })

  it.each([
    {
      name: 'a parent escape',
      cfg: { path: '../x.txt', contents: '' },
      error: 'escapes the promotion workspace',
    },
    { name: 'an absolute path', cfg: { path: '/tmp/x.txt', contents: '' }, error: 'must be relative' },
    {
      name: 'the .git directory',
      cfg: { path: '.git/config', contents: '' },
      error: 'writing to the .git directory is forbidden',
    },
    {
      name: 'executable permissions',
      cfg: { path: 'x', contents: '', permissions: '0755' },
      error: 'must not include executable bits',
    },
    {
      name: 'world-writable permissions',
      cfg: { path: 'x', contents: '', permissions: '0666' },
      error: 'must not be world-writable',
    },
  ])('refuses $name', async ({ cfg, error }) => {
    await expect(run(cfg)).rejects.toThrow(error)
  })

  it.each([
    {
      name: 'outside the workspace',
      target: () => fs.mkdtempSync(path.join(os.tmpdir(), 'file-write-outside-')),
    },
    {
      name: 'inside the workspace',
      target: () => (fs.mkdirSync(path.join(workDir, 'real')), path.join(workDir, 'real')),
    },
  ])('refuses a path through a symlink ($name)', async ({ target }) => {
    const dir = target()
    fs.symlinkSync(dir, path.join(workDir, 'link'))
    await expect(run({ path: 'link/x.txt', contents: 'x' })).rejects.toThrow('symlinks are forbidden')
    expect(fs.existsSync(path.join(dir, 'x.txt'))).toBe(false)
  })

  it('config rejects a permissions value that is not 0 and three octal digits', () => {
    for (const permissions of ['644', '0o644', '0800', '00644']) {
      expect(fileWrite.config.safeParse({ path: 'a', contents: '', permissions }).success, permissions).toBe(
        false,
      )
    }
  })
})
