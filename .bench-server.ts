import { startGitServer } from './test/support/git-server.ts'
const s = await startGitServer({ root: process.argv[2] })
const files: Record<string, string> = {
  'kustomize/base/kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- deployment.yaml\n',
  'kustomize/base/deployment.yaml': 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: silly-demo\nspec:\n  template:\n    spec:\n      containers:\n      - name: silly-demo\n        image: ghcr.io/vfarcic/silly-demo:1.4.100\n',
  'kustomize/overlays/dev/kustomization.yaml': 'resources:\n- ../../base\nnamespace: dev\n',
}
for (let i = 0; i < 2000; i++) files[`docs/dir${i % 40}/sub${i % 7}/file-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  k: "${'x'.repeat(200)}${i}"\n`
for (const name of ['tug', 'cli']) { await s.createRepo(name, files); await s.commit(name, 'stage/dev', { 'manifests.yaml': 'old\n' }) }
console.log(s.url)
setInterval(() => {}, 1 << 30)
