import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { readIndex, statMatches, writeIndex } from './index-file.js'

const exec = promisify(execFile)
async function cli(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
  })
  return stdout
}

describe('index file', () => {
  it('reads what the git CLI wrote, and writes what the git CLI reads', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'index-'))
    await cli(dir, ['init', '-q'])
    const names = ['a.txt', 'dir/b.txt', 'dir/sub/a-very-long-file-name-to-vary-padding.yaml', 'z']
    for (const name of names) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true })
      fs.writeFileSync(path.join(dir, name), `${name}\n`)
    }
    await cli(dir, ['add', '-A'])
    await new Promise((r) => setTimeout(r, 20))
    const gitdir = path.join(dir, '.git')
    const read = readIndex(gitdir)
    expect([...(read?.files.keys() ?? [])]).toEqual(names)
    const staged = (await cli(dir, ['ls-files', '-s'])).trim().split('\n')
    names.forEach((name, i) => expect(staged[i]).toBe(`100644 ${read?.files.get(name)?.oid} 0\t${name}`))
    // Write it back from fresh lstats, one entry marked skip-worktree; git reads it and sees a clean tree.
    const entries = names.map((name) => ({
      path: name,
      oid: read?.files.get(name)?.oid ?? '',
      mode: '100644',
      stat: name === 'z' ? undefined : fs.lstatSync(path.join(dir, name), { bigint: true }),
    }))
    writeIndex(gitdir, entries)
    expect((await cli(dir, ['ls-files', '-t'])).trim().split('\n')).toEqual([
      'H a.txt',
      'H dir/b.txt',
      'H dir/sub/a-very-long-file-name-to-vary-padding.yaml',
      'S z',
    ])
    expect(await cli(dir, ['diff', '--stat'])).toBe('')
    const again = readIndex(gitdir)
    expect(again?.files.get('z')?.skipWorktree).toBe(true)
    const a = again?.files.get('a.txt')
    expect(
      a && statMatches(a, fs.lstatSync(path.join(dir, 'a.txt'), { bigint: true }), again?.writtenNs ?? 0n),
    ).toBe(true)
  })
})
