import fs from 'node:fs'
import path from 'node:path'

const examples = path.resolve(__dirname, '../../examples/silly-demo')

/** The seed 004 manifests as written, with only the registry and git URLs pointed at local servers. */
export function seedManifests(registryHost: string, gitURL: string): string {
  return fs
    .readdirSync(examples)
    .sort()
    .map((f) => fs.readFileSync(path.join(examples, f), 'utf8'))
    .join('\n---\n')
    .replaceAll('ghcr.io/vfarcic/silly-demo', `${registryHost}/vfarcic/silly-demo`)
    .replaceAll('https://github.com/vfarcic/kargo-demo', gitURL)
}

/** The kargo-demo repository's main branch, as the seed describes it: a Kustomize base and three overlays. */
export function kargoDemoRepo(registryHost: string): Record<string, string> {
  const image = `${registryHost}/vfarcic/silly-demo`
  const overlay = (stage: string) => `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
- ../../base
patches:
- target:
    kind: Ingress
    name: silly-demo
  patch: |-
    - op: replace
      path: /spec/rules/0/host
      value: silly-demo.${stage}.127.0.0.1.nip.io
`
  return {
    'README.md': '# kargo-demo\n',
    'kustomize/base/kustomization.yaml': `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
# the resources every stage shares
resources:
- deployment.yaml
- service.yaml
- ingress.yaml
`,
    'kustomize/base/deployment.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: silly-demo
spec:
  selector:
    matchLabels:
      app: silly-demo
  template:
    metadata:
      labels:
        app: silly-demo
    spec:
      containers:
      - name: silly-demo
        image: ${image}
        ports:
        - containerPort: 8080
`,
    'kustomize/base/service.yaml': `apiVersion: v1
kind: Service
metadata:
  name: silly-demo
spec:
  selector:
    app: silly-demo
  ports:
  - port: 8080
`,
    'kustomize/base/ingress.yaml': `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: silly-demo
spec:
  rules:
  - host: silly-demo.127.0.0.1.nip.io
    http:
      paths:
      - path: /
        pathType: Prefix
        backend:
          service:
            name: silly-demo
            port:
              number: 8080
`,
    'kustomize/overlays/dev/kustomization.yaml': overlay('dev'),
    'kustomize/overlays/pre-prod/kustomization.yaml': overlay('pre-prod'),
    'kustomize/overlays/prod/kustomization.yaml': overlay('prod'),
  }
}

/** Argo CD apps as the seed's ApplicationSet makes them: one per stage, authorised for that Stage. */
export function sillyDemoApps(gitURL: string) {
  return ['dev', 'pre-prod', 'prod'].map((stage) => ({
    name: `silly-demo-${stage}`,
    annotations: { 'kargo.akuity.io/authorized-stage': `silly-demo:${stage}` },
    source: { repoURL: gitURL, targetRevision: `stage/${stage}`, path: '.' },
  }))
}
