import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { discover, fetchPack } from './lib/git/fetch.ts'
import { remoteFor } from './lib/git/repo.ts'
import { ObjectStore } from './lib/git/objects.ts'
const ex = promisify(execFile)
const url = `${process.argv[2]}/tug.git`
for (let i = 0; i < 3; i++) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'f-'))
  fs.mkdirSync(path.join(dir, 'objects/pack'), { recursive: true })
  const remote = remoteFor(url)
  let t = performance.now()
  const adv = await discover(remote)
  const t1 = performance.now() - t
  t = performance.now()
  const store = new ObjectStore(dir)
  const r = await fetchPack(remote, adv, store, { wants: [adv.refs.get('refs/heads/main')!], depth: 1 })
  const t2 = performance.now() - t
  t = performance.now()
  await ex('git', ['clone', '-q', '--depth', '1', '--bare', url, path.join(dir, 'cli')])
  const t3 = performance.now() - t
  t = performance.now()
  await ex('git', ['-c', 'protocol.version=1', 'clone', '-q', '--depth', '1', '--bare', url, path.join(dir, 'cli1')])
  const t4 = performance.now() - t
  console.log(`discover ${Math.round(t1)} fetchPack ${Math.round(t2)} objects ${r.objects} | cli v2 bare ${Math.round(t3)} cli v1 bare ${Math.round(t4)}`)
}
