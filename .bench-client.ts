import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { gitClone } from './lib/steps/git-clone.ts'
import { gitClear } from './lib/steps/git-clear.ts'
import { kustomizeSetImage } from './lib/steps/kustomize-set-image.ts'
import { kustomizeBuild } from './lib/steps/kustomize-build.ts'
import { gitCommit } from './lib/steps/git-commit.ts'
import { gitPush } from './lib/steps/git-push.ts'
const ex = promisify(execFile)
const url = process.argv[2]
for (let round = Number(process.argv[3]); round < Number(process.argv[3]) + 4; round++) {
const tag = `1.4.${300 + round}`
const freight = { items: { 'Warehouse/silly-demo': { name: 'f', origin: { kind: 'Warehouse', name: 'silly-demo' }, images: [{ repoURL: 'ghcr.io/vfarcic/silly-demo', tag }] } } }
// Tugboat
{
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tug-'))
  const outputs: Record<string, Record<string, unknown>> = {}
  const t0 = performance.now(); const c0 = process.cpuUsage()
  const times: string[] = []
  const run = async (step: any, cfg: unknown, as: string) => {
    const t = performance.now()
    const r = await step.run({ project: 'p', stage: 'dev', promotion: 'x', workDir, alias: as, freight, outputs, credentials: async () => undefined, log: () => {} }, step.config.parse(cfg))
    if (r.output) outputs[as] = r.output
    times.push(`${step.kind}=${Math.round(performance.now() - t)}`)
  }
  await run(gitClone, { repoURL: `${url}/tug.git`, checkout: [{ branch: 'main', path: './src' }, { branch: 'stage/dev', create: true, path: './out' }] }, 'clone')
  await run(gitClear, { path: './out' }, 'clear')
  await run(kustomizeSetImage, { path: './src/kustomize/base', images: [{ image: 'ghcr.io/vfarcic/silly-demo' }] }, 'update-image')
  await run(kustomizeBuild, { path: './src/kustomize/overlays/dev', outPath: './out/manifests.yaml' }, 'build')
  await run(gitCommit, { path: './out', messageFromSteps: ['update-image'] }, 'commit')
  await run(gitPush, { path: './out', targetBranch: 'stage/dev' }, 'push')
  const cu = process.cpuUsage(c0)
  console.log(`tugboat wall=${Math.round(performance.now() - t0)}ms cpu=${Math.round((cu.user + cu.system) / 1000)}ms ${times.join(' ')}`)
}
// Shell script with the git CLI + kubectl kustomize
{
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'))
  const script = `set -e
cd ${workDir}
git clone -q --depth 1 --single-branch --branch main ${url}/cli.git src
git clone -q --depth 1 --single-branch --branch stage/dev ${url}/cli.git out
cd out && git rm -rqf . && cd ..
sed -i 's/^images:.*//' src/kustomize/base/kustomization.yaml
printf 'images:\\n- name: ghcr.io/vfarcic/silly-demo\\n  newTag: ${tag}\\n' >> src/kustomize/base/kustomization.yaml
kubectl kustomize src/kustomize/overlays/dev > out/manifests.yaml
cd out && git add -A && git -c user.name=K -c user.email=k@e commit -qm "Updated" && git pull -q --rebase origin stage/dev && git push -q origin HEAD:stage/dev
`
  const t0 = performance.now()
  const r = await ex('bash', ['-c', `time (${script})`], { env: { ...process.env, HOME: os.tmpdir(), GIT_CONFIG_NOSYSTEM: '1', KUBECONFIG: '/tmp/none' } })
  console.log(`shell   wall=${Math.round(performance.now() - t0)}ms ${r.stderr.trim().replace(/\n/g, ' ')}`)
}
}
