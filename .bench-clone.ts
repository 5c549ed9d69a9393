import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gitClone } from './lib/steps/git-clone.ts'
const url = process.argv[2]
for (let i = 0; i < 3; i++) {
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tug-'))
const t = performance.now(); const c = process.cpuUsage()
await gitClone.run({ project: 'p', stage: 'dev', promotion: 'x', workDir, alias: 'c', freight: { items: {} }, outputs: {}, credentials: async () => undefined, log: () => {} } as any, gitClone.config.parse({ repoURL: `${url}/tug.git`, checkout: [{ branch: 'main', path: './src' }] }))
const cu = process.cpuUsage(c)
console.log('clone main', Math.round(performance.now() - t), 'cpu', Math.round((cu.user + cu.system) / 1000))
}
