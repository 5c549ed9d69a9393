import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import { hashObject, ObjectStore, parseTree, serializeTree } from './objects.js'

const exec = promisify(execFile)
async function cli(dir: string, args: string[]): Promise<string> {
  const { stdout } = await exec('git', args, {
    cwd: dir,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() },
    maxBuffer: 64 << 20,
  })
  return stdout
}

describe('ObjectStore', () => {
  let dir: string
  beforeAll(async () => {
    // A repository whose pack is full of deltas (similar files over several commits), packed by the git CLI.
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'objects-'))
    await cli(dir, ['init', '-q', '-b', 'main'])
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 30; i++) {
        const lines = Array.from(
          { length: 200 },
          (_, n) => `line ${n} of file ${i % 3}${n === round * 10 ? ` changed ${round}` : ''}`,
        )
        fs.mkdirSync(path.join(dir, `d${i % 5}`), { recursive: true })
        fs.writeFileSync(path.join(dir, `d${i % 5}`, `f${i}.txt`), `${lines.join('\n')}\n`)
      }
      await cli(dir, ['add', '-A'])
      await cli(dir, ['-c', 'user.name=T', '-c', 'user.email=t@e', 'commit', '-q', '-m', `round ${round}`])
    }
    await cli(dir, ['repack', '-adfq', '--depth=50', '--window=50'])
    await cli(dir, [
      '-c',
      'user.name=T',
      '-c',
      'user.email=t@e',
      'tag',
      '-a',
      '-m',
      'annotated',
      'v1',
      'HEAD~1',
    ])
  })

  it('reads every packed object (deltas included) exactly as git does', async () => {
    const store = new ObjectStore(path.join(dir, '.git'))
    const listing = await cli(dir, [
      'cat-file',
      '--batch-all-objects',
      '--batch-check=%(objectname) %(objecttype) %(deltabase)',
    ])
    const objects = listing
      .trim()
      .split('\n')
      .map((l) => l.split(' '))
    expect(objects.some(([, , base]) => base !== '0000000000000000000000000000000000000000')).toBe(true)
    for (const [oid = '', type] of objects) {
      const object = store.read(oid)
      expect(object.type).toBe(type)
      expect(hashObject(object.type, object.data)).toBe(oid)
    }
  })

  it('flattens trees, peels tags, and writes trees git accepts', async () => {
    const store = new ObjectStore(path.join(dir, '.git'))
    const head = (await cli(dir, ['rev-parse', 'HEAD'])).trim()
    const tree = store.flatten(store.readCommit(head).tree)
    expect([...tree.keys()].sort()).toEqual(
      (await cli(dir, ['ls-tree', '-r', '--name-only', 'HEAD'])).trim().split('\n').sort(),
    )
    expect(store.writeFlat(tree)).toBe(store.readCommit(head).tree)
    const tagged = (await cli(dir, ['rev-parse', 'v1'])).trim()
    expect(store.peelToCommit(tagged)).toBe((await cli(dir, ['rev-parse', 'HEAD~1'])).trim())
    // A new loose blob and tree, readable by the git CLI.
    const blob = store.write('blob', Buffer.from('fresh\n'))
    expect(await cli(dir, ['cat-file', '-p', blob])).toBe('fresh\n')
    const treeOid = store.writeFlat(
      new Map([
        ['a/b.txt', { oid: blob, mode: '100644' }],
        ['a.txt', { oid: blob, mode: '100755' }],
      ]),
    )
    expect(await cli(dir, ['ls-tree', '-r', treeOid])).toBe(
      `100755 blob ${blob}\ta.txt\n100644 blob ${blob}\ta/b.txt\n`,
    )
  })

  it('sorts tree entries as git does (a directory sorts as name + "/")', () => {
    const oid = 'a'.repeat(40)
    const entries = [
      { mode: '100644', name: 'a.txt', oid },
      { mode: '40000', name: 'a', oid },
      { mode: '100644', name: 'a-b', oid },
    ]
    expect(parseTree(serializeTree(entries)).map((e) => e.name)).toEqual(['a-b', 'a.txt', 'a'])
  })
})
