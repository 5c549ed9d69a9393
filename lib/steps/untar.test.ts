import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import zlib from 'node:zlib'
import * as nodeTar from 'tar'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { untar } from './untar.js'

interface RawEntry {
  name: string
  type?: 'file' | 'dir' | 'symlink' | 'hardlink'
  content?: string
  linkname?: string
  mode?: number
}

/** A hand-built ustar archive, so the test can hold entries no well-behaved tool would write. */
function rawTar(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = []
  for (const e of entries) {
    const body = Buffer.from(e.content ?? '')
    const header = Buffer.alloc(512)
    const put = (text: string, offset: number, length: number) => header.write(text, offset, length, 'utf8')
    const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0'
    put(e.name, 0, 100)
    put(octal(e.mode ?? (e.type === 'dir' ? 0o755 : 0o644), 8), 100, 8)
    put(octal(0, 8), 108, 8)
    put(octal(0, 8), 116, 8)
    put(octal(e.type === 'file' || e.type === undefined ? body.length : 0, 12), 124, 12)
    put(octal(1_700_000_000, 12), 136, 12)
    put('        ', 148, 8)
    put({ file: '0', dir: '5', symlink: '2', hardlink: '1' }[e.type ?? 'file'], 156, 1)
    put(e.linkname ?? '', 157, 100)
    put('ustar\u000000', 257, 8)
    let sum = 0
    for (const b of header) sum += b
    put(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8)
    blocks.push(header)
    if ((e.type ?? 'file') === 'file' && body.length > 0) {
      blocks.push(body, Buffer.alloc((512 - (body.length % 512)) % 512))
    }
  }
  blocks.push(Buffer.alloc(1024))
  return Buffer.concat(blocks)
}

describe('untar', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('untar')
  })
  const run = (cfg: unknown) => untar.run(makeStepContext(workDir), untar.config.parse(cfg))
  const list = (dir: string): string[] => {
    const out: string[] = []
    const walk = (d: string, prefix: string) => {
      for (const e of fs
        .readdirSync(d, { withFileTypes: true })
        .sort((a, b) => a.name.localeCompare(b.name))) {
        const rel = prefix ? `${prefix}/${e.name}` : e.name
        out.push(
          e.isDirectory()
            ? `${rel}/`
            : e.isSymbolicLink()
              ? `${rel} -> ${fs.readlinkSync(path.join(d, e.name))}`
              : rel,
        )
        if (e.isDirectory()) walk(path.join(d, e.name), rel)
      }
    }
    walk(path.join(workDir, dir), '')
    return out
  }
  const archive = (name: string, entries: RawEntry[], gzip = false) => {
    const bytes = rawTar(entries)
    fs.writeFileSync(path.join(workDir, name), gzip ? zlib.gzipSync(bytes) : bytes)
  }

  it('extracts files, directories and safe symlinks, replacing outPath', async () => {
    archive(
      'chart.tgz',
      [
        { name: 'chart/', type: 'dir' },
        { name: 'chart/Chart.yaml', content: 'name: app\n' },
        { name: 'chart/templates/deploy.yaml', content: 'kind: Deployment\n', mode: 0o600 },
        { name: 'chart/values.yaml', content: 'a: 1\n' },
        { name: 'chart/current', type: 'symlink', linkname: 'values.yaml' },
      ],
      true,
    )
    writeFiles(workDir, { 'out/stale.txt': 'old' })
    const result = await run({ inPath: 'chart.tgz', outPath: 'out' })
    expect(result).toEqual({ status: 'Succeeded' })
    expect(list('out')).toEqual([
      'chart/',
      'chart/Chart.yaml',
      'chart/current -> values.yaml',
      'chart/templates/',
      'chart/templates/deploy.yaml',
      'chart/values.yaml',
    ])
    expect(fs.readFileSync(path.join(workDir, 'out/chart/Chart.yaml'), 'utf8')).toBe('name: app\n')
    expect(fs.statSync(path.join(workDir, 'out/chart/templates/deploy.yaml')).mode & 0o777).toBe(0o600)
    // No temporary directory is left behind.
    expect(fs.readdirSync(workDir).sort()).toEqual(['chart.tgz', 'out'])
  })

  it('stripComponents drops leading parts and skips entries without enough of them', async () => {
    archive('a.tar', [
      { name: 'top.txt', content: 'x' },
      { name: 'pkg/', type: 'dir' },
      { name: 'pkg/bin/tool', content: 'y' },
    ])
    await run({ inPath: 'a.tar', outPath: 'out', stripComponents: 1 })
    expect(list('out')).toEqual(['bin/', 'bin/tool'])
  })

  it('ignore takes .gitignore patterns; without it .git is skipped', async () => {
    archive('a.tar', [
      { name: '.git/config', content: 'x' },
      { name: 'keep.txt', content: 'k' },
      { name: 'debug.log', content: 'l' },
      { name: 'node_modules/x.js', content: 'm' },
    ])
    await run({ inPath: 'a.tar', outPath: 'plain' })
    expect(list('plain')).toEqual(['debug.log', 'keep.txt', 'node_modules/', 'node_modules/x.js'])
    await run({ inPath: 'a.tar', outPath: 'filtered', ignore: '*.log\nnode_modules/\n' })
    expect(list('filtered')).toEqual(['.git/', '.git/config', 'keep.txt'])
  })

  it('refuses zip-slip entries and symlinks leading outside, extracting the rest', async () => {
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'untar-outside-'))
    const escape = path.relative(path.join(workDir, 'out'), path.join(outside, 'pwned.txt'))
    archive('evil.tar', [
      { name: '../evil.txt', content: 'up one' },
      { name: escape, content: 'far away' },
      { name: '/abs.txt', content: 'absolute' },
      { name: 'a/../../b.txt', content: 'sneaky' },
      { name: './dot.txt', content: 'dot' },
      { name: 'abs-link', type: 'symlink', linkname: '/etc' },
      { name: 'up-link', type: 'symlink', linkname: '../..' },
      { name: 'dir/parent', type: 'symlink', linkname: '..' },
      { name: 'dir/grand', type: 'symlink', linkname: 'parent/..' },
      { name: 'dir/parent/via-link.txt', content: 'through a link' },
      { name: 'hard', type: 'hardlink', linkname: '/etc/passwd' },
      { name: 'ok.txt', content: 'fine' },
    ])
    const logs: string[] = []
    await untar.run(
      makeStepContext(workDir, { log: (l) => logs.push(l) }),
      untar.config.parse({ inPath: 'evil.tar', outPath: 'out' }),
    )
    expect(list('out')).toEqual(['dir/', 'dir/parent -> ..', 'ok.txt'])
    expect(fs.existsSync(path.join(workDir, 'evil.txt'))).toBe(false)
    expect(fs.existsSync(path.join(outside, 'pwned.txt'))).toBe(false)
    expect(fs.existsSync(path.join(path.dirname(workDir), 'b.txt'))).toBe(false)
    expect(logs.filter((l) => l.startsWith('skipping')).length).toBeGreaterThanOrEqual(8)
  })

  it('works on archives written by node-tar', async () => {
    writeFiles(workDir, { 'src/a.txt': 'a', 'src/sub/b.txt': 'b' })
    await nodeTar.create(
      { file: path.join(workDir, 'src.tar.gz'), cwd: path.join(workDir, 'src'), gzip: true },
      ['a.txt', 'sub'],
    )
    await run({ inPath: 'src.tar.gz', outPath: 'dest' })
    expect(list('dest')).toEqual(['a.txt', 'sub/', 'sub/b.txt'])
  })

  it.each([
    {
      name: 'inPath escaping',
      cfg: { inPath: '../a.tar', outPath: 'out' },
      error: 'escapes the promotion workspace',
    },
    {
      name: 'outPath escaping',
      cfg: { inPath: 'a.tar', outPath: '../out' },
      error: 'escapes the promotion workspace',
    },
    { name: 'outPath absolute', cfg: { inPath: 'a.tar', outPath: '/tmp/out' }, error: 'must be relative' },
    {
      name: 'outPath the workspace',
      cfg: { inPath: 'a.tar', outPath: '.' },
      error: 'must not be the promotion workspace',
    },
    {
      name: 'a missing archive',
      cfg: { inPath: 'missing.tar', outPath: 'out' },
      error: 'no such file or directory',
    },
  ])('error: $name', async ({ cfg, error }) => {
    archive('a.tar', [{ name: 'x', content: 'x' }])
    await expect(run(cfg)).rejects.toThrow(error)
  })

  it('config rejects a negative stripComponents', () => {
    expect(untar.config.safeParse({ inPath: 'a', outPath: 'b', stripComponents: -1 }).success).toBe(false)
  })
})
