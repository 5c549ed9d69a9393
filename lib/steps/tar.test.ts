import fs from 'node:fs'
import path from 'node:path'
import * as nodeTar from 'tar'
import { beforeEach, describe, expect, it } from 'vitest'
import { makeStepContext, makeWorkDir, writeFiles } from '../files/test-context.js'
import { tarCreate } from './tar.js'
import { untar } from './untar.js'

describe('tar', () => {
  let workDir: string
  beforeEach(() => {
    workDir = makeWorkDir('tar')
    writeFiles(workDir, {
      'src/chart/Chart.yaml': 'name: app\n',
      'src/chart/values.yaml': 'a: 1\n',
      'src/chart/templates/deploy.yaml': 'kind: Deployment\n',
      'src/chart/debug.log': 'noise',
      'src/chart/.git/HEAD': 'ref: refs/heads/main\n',
      'src/chart/@scope.txt': 'at sign',
    })
    fs.symlinkSync('values.yaml', path.join(workDir, 'src/chart/current'))
  })
  const run = (cfg: unknown) => tarCreate.run(makeStepContext(workDir), tarCreate.config.parse(cfg))
  const entries = async (file: string): Promise<string[]> => {
    const names: string[] = []
    await nodeTar.list({
      file: path.join(workDir, file),
      onReadEntry: (e) => names.push(e.type === 'SymbolicLink' ? `${e.path} -> ${e.linkpath}` : e.path),
    })
    return names
  }

  it.each([
    { name: 'plain', gzip: undefined, magic: false },
    { name: 'gzipped', gzip: true, magic: true },
  ])('archives the contents of a directory ($name), leaving out .git', async ({ gzip, magic }) => {
    const result = await run({ inPath: 'src/chart', outPath: 'out/chart.tar', ...(gzip ? { gzip } : {}) })
    expect(result).toEqual({ status: 'Succeeded' })
    expect(await entries('out/chart.tar')).toEqual([
      '@scope.txt',
      'Chart.yaml',
      'current -> values.yaml',
      'debug.log',
      'templates/',
      'templates/deploy.yaml',
      'values.yaml',
    ])
    const head = fs.readFileSync(path.join(workDir, 'out/chart.tar')).subarray(0, 2)
    expect(head[0] === 0x1f && head[1] === 0x8b).toBe(magic)
  })

  it('ignore replaces the default (.git is then kept unless listed)', async () => {
    await run({ inPath: 'src/chart', outPath: 'chart.tar', ignore: '*.log\ntemplates/\n@*' })
    expect(await entries('chart.tar')).toEqual([
      '.git/',
      '.git/HEAD',
      'Chart.yaml',
      'current -> values.yaml',
      'values.yaml',
    ])
  })

  it('archives a single file under its base name', async () => {
    await run({ inPath: 'src/chart/Chart.yaml', outPath: 'chart.tar' })
    expect(await entries('chart.tar')).toEqual(['Chart.yaml'])
  })

  it('replaces an existing archive, and round-trips through untar', async () => {
    writeFiles(workDir, { 'chart.tgz': 'not a tar' })
    await run({ inPath: 'src/chart', outPath: 'chart.tgz', gzip: true })
    await untar.run(makeStepContext(workDir), untar.config.parse({ inPath: 'chart.tgz', outPath: 'copy' }))
    expect(fs.readFileSync(path.join(workDir, 'copy/templates/deploy.yaml'), 'utf8')).toBe(
      'kind: Deployment\n',
    )
    expect(fs.readlinkSync(path.join(workDir, 'copy/current'))).toBe('values.yaml')
    expect(fs.readdirSync(workDir).filter((n) => n.includes('.tmp'))).toEqual([])
  })

  it('an archive written inside inPath does not include itself', async () => {
    await run({ inPath: 'src/chart', outPath: 'src/chart/self.tar' })
    expect(await entries('src/chart/self.tar')).not.toContain('self.tar')
  })

  it.each([
    {
      name: 'a missing inPath',
      cfg: { inPath: 'nope', outPath: 'a.tar' },
      error: 'input path "nope" does not exist',
    },
    {
      name: 'inPath escaping',
      cfg: { inPath: '../x', outPath: 'a.tar' },
      error: 'escapes the promotion workspace',
    },
    {
      name: 'outPath escaping',
      cfg: { inPath: 'src', outPath: '../a.tar' },
      error: 'escapes the promotion workspace',
    },
    { name: 'outPath absolute', cfg: { inPath: 'src', outPath: '/tmp/a.tar' }, error: 'must be relative' },
  ])('error: $name', async ({ cfg, error }) => {
    await expect(run(cfg)).rejects.toThrow(error)
  })
})
