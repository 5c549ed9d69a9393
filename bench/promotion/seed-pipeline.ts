/**
 * The seed pipeline (git-clone, git-clear, kustomize-set-image, kustomize-build, git-commit, git-push) against a
 * local git smart-HTTP server, on a repository of about 2,000 files with history, compared in the same run with a
 * shell script doing the same work with the git CLI and kustomize. Prints a markdown table.
 * Run: npx tsx bench/promotion/seed-pipeline.ts [runs=5]
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { gitClear } from '../../lib/steps/git-clear.js'
import { gitClone } from '../../lib/steps/git-clone.js'
import { gitCommit } from '../../lib/steps/git-commit.js'
import { gitPush } from '../../lib/steps/git-push.js'
import { kustomizeBuild } from '../../lib/steps/kustomize-build.js'
import { kustomizeSetImage } from '../../lib/steps/kustomize-set-image.js'
import type { Step, StepContext } from '../../lib/steps/types.js'
import { findKustomize } from '../../lib/tools/kustomize.js'
import { startGitServer } from '../../lib/local/git-server.js'

const runs = Number(process.argv[2] ?? 5)
// A list of different steps: Step<C> is invariant in C.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyStep = Step<any>
const IMAGE = 'registry.example.com/demo/app'

function repoFiles(): Record<string, string> {
  const files: Record<string, string> = {
    'kustomize/base/kustomization.yaml':
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n',
    'kustomize/base/deployment.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app\nspec:\n  selector:\n    matchLabels: {app: app}\n  template:\n    metadata:\n      labels: {app: app}\n    spec:\n      containers:\n      - name: app\n        image: ${IMAGE}\n`,
    'kustomize/overlays/dev/kustomization.yaml':
      'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- ../../base\nnamePrefix: dev-\n',
  }
  for (let i = 0; i < 2000; i++)
    files[`docs/section-${Math.floor(i / 100)}/page-${i}.md`] =
      `# Page ${i}\n\n${'lorem ipsum dolor sit amet '.repeat(20)}\n`
  return files
}

async function tugboatRun(repoURL: string, branch: string): Promise<number> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tb-'))
  const outputs: Record<string, Record<string, unknown>> = {}
  const ctx = (alias: string): StepContext => ({
    project: 'bench',
    stage: 'dev',
    promotion: `bench-${branch}`,
    workDir,
    alias,
    outputs,
    freight: {
      items: {
        'Warehouse/app': {
          name: 'f',
          origin: { kind: 'Warehouse', name: 'app' },
          images: [{ repoURL: IMAGE, tag: '1.2.3', digest: 'sha256:' + 'a'.repeat(64) }],
        },
      },
    },
    credentials: async () => undefined,
    log: () => {},
    startedAt: new Date(),
  })
  const plan: Array<[AnyStep, string, unknown]> = [
    [
      gitClone,
      'clone',
      {
        repoURL,
        checkout: [
          { branch: 'main', path: './src' },
          { branch, create: true, path: './out' },
        ],
      },
    ],
    [gitClear, 'clear', { path: './out' }],
    [kustomizeSetImage, 'update-image', { path: './src/kustomize/base', images: [{ image: IMAGE }] }],
    [kustomizeBuild, 'build', { path: './src/kustomize/overlays/dev', outPath: './out/manifests.yaml' }],
    [gitCommit, 'commit', { path: './out', messageFromSteps: ['update-image'] }],
    [gitPush, 'push', { path: './out', targetBranch: branch }],
  ]
  const started = performance.now()
  for (const [step, alias, config] of plan) {
    const result = await step.run(ctx(alias), step.config.parse(config))
    if (result.status !== 'Succeeded' && result.status !== 'Skipped')
      throw new Error(`${alias}: ${result.status} ${result.message}`)
    if (result.output) outputs[alias] = result.output
  }
  const elapsed = performance.now() - started
  fs.rmSync(workDir, { recursive: true, force: true })
  return elapsed
}

// Async on purpose: the git server runs in this process, so a blocking exec would deadlock.
const run = promisify(execFile)

async function shellRun(repoURL: string, branch: string): Promise<number> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sh-'))
  const kustomize = findKustomize(process.env)
  const build = [kustomize.command, ...kustomize.prefix].map((a) => `'${a}'`).join(' ')
  const script = `set -e
cd '${workDir}'
git clone -q --depth 1 --single-branch -b main '${repoURL}' src
if git ls-remote --exit-code --heads '${repoURL}' '${branch}' >/dev/null; then
  git clone -q --depth 1 --single-branch -b '${branch}' '${repoURL}' out
else
  git init -q out && git -C out checkout -q --orphan '${branch}' && git -C out remote add origin '${repoURL}'
fi
find out -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
printf 'images:\\n- name: ${IMAGE}\\n  newTag: 1.2.3\\n' >> src/kustomize/base/kustomization.yaml
${build} src/kustomize/overlays/dev > out/manifests.yaml
git -C out add -A
git -C out -c user.name=bench -c user.email=bench@example.com commit -q -m 'Updated image'
git -C out push -q origin 'HEAD:refs/heads/${branch}'
`
  const started = performance.now()
  await run('bash', ['-c', script])
  const elapsed = performance.now() - started
  fs.rmSync(workDir, { recursive: true, force: true })
  return elapsed
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

/** Starts `serve-git.ts` on `root` in a child process; resolves with its URL and a stop function. */
async function serveGitElsewhere(root: string): Promise<{ url: string; stop: () => void }> {
  const tsx = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../node_modules/.bin/tsx')
  const child = spawn(tsx, [fileURLToPath(new URL('./serve-git.ts', import.meta.url)), root], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()))
    child.once('exit', (code) => reject(new Error(`serve-git.ts exited with ${code}`)))
  })
  return { url, stop: () => child.kill('SIGTERM') }
}

// The repository is made in-process, then served from a process of its own while the pipelines run.
const setup = await startGitServer()
await setup.createRepo('bench', repoFiles())
for (let i = 0; i < 4; i++)
  await setup.commit(
    'bench',
    'main',
    { [`docs/changelog-${i}.md`]: `change ${i}\n` },
    { message: `history ${i}` },
  )
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-git-'))
fs.cpSync(setup.root, root, { recursive: true })
await setup.close()
const served = await serveGitElsewhere(root)
try {
  const repoURL = `${served.url}/bench.git`
  await tugboatRun(repoURL, 'warmup/tugboat')
  await shellRun(repoURL, 'warmup/shell')
  const tugboat: number[] = []
  const shell: number[] = []
  for (let i = 0; i < runs; i++) {
    // Interleaved, each on a fresh target branch, so both see the same machine load.
    tugboat.push(await tugboatRun(repoURL, `stage/tb-${i}`))
    shell.push(await shellRun(repoURL, `stage/sh-${i}`))
  }
  console.error(
    `runs (ms) tugboat: ${tugboat.map((t) => t.toFixed(0)).join(' ')}; shell: ${shell.map((t) => t.toFixed(0)).join(' ')}`,
  )
  const ratio = median(tugboat) / median(shell)
  console.log(`| pipeline (2,000-file repo, ${runs} interleaved runs) | median ms | × shell |`)
  console.log('|---|---:|---:|')
  console.log(`| shell script: git CLI + kustomize (baseline) | ${median(shell).toFixed(0)} | 1.00 |`)
  console.log(`| Tugboat steps | ${median(tugboat).toFixed(0)} | ${ratio.toFixed(2)} |`)
} finally {
  served.stop()
  fs.rmSync(root, { recursive: true, force: true })
}
