import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gitClone } from './lib/steps/git-clone.ts'
import { gitCommit } from './lib/steps/git-commit.ts'
import { gitPush } from './lib/steps/git-push.ts'
const url = process.argv[2]
for (let i = 0; i < 3; i++) {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'p-'))
  const ctx: any = { project: 'p', stage: 'dev', promotion: `promo-${Date.now()}-${i}`, workDir, alias: 'c', freight: { items: {} }, outputs: {}, credentials: async () => undefined, log: () => {} }
  await gitClone.run(ctx, gitClone.config.parse({ repoURL: `${url}/tug.git`, checkout: [{ branch: 'main', path: 'src' }] }))
  fs.writeFileSync(path.join(workDir, 'src/docs/dir1/sub1/file-1.yaml'), `changed ${Date.now()}\n`)
  let t = performance.now()
  await gitCommit.run(ctx, gitCommit.config.parse({ path: 'src', message: 'm' }))
  const tc = performance.now() - t
  t = performance.now(); let c = process.cpuUsage()
  await gitPush.run(ctx, gitPush.config.parse({ path: 'src', generateTargetBranch: true }))
  const tg = performance.now() - t; const cg = process.cpuUsage(c)
  t = performance.now(); c = process.cpuUsage()
  await gitPush.run(ctx, gitPush.config.parse({ path: 'src' }))
  const tp = performance.now() - t; const cp = process.cpuUsage(c)
  console.log(`commit ${Math.round(tc)} push-new-branch ${Math.round(tg)} (cpu ${Math.round((cg.user+cg.system)/1000)}) push-main ${Math.round(tp)} (cpu ${Math.round((cp.user+cp.system)/1000)})`)
}
