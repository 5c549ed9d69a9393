import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'
import { afterAll, describe, expect, it } from 'vitest'
import { bundleOptions, handlersToBuild, repoRoot } from './build.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tugboat-build-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Bundles `entry` with the handlers' options into a fresh folder (nothing else beside it) and imports it. */
async function bundleAndImport(entry: string, root = repoRoot) {
  const outdir = fs.mkdtempSync(path.join(tmp, 'out-'))
  const outfile = path.join(outdir, 'index.mjs')
  const result = await build(bundleOptions(entry, outdir, root))
  const inputs = Object.keys(result.metafile!.inputs)
  return { module: await import(pathToFileURL(outfile).href), inputs, outfile }
}

/** The source files a bundle loads at cold start: its entry chunk and the chunks that imports statically. */
async function coldStartInputs(entry: string): Promise<Set<string>> {
  const outdir = fs.mkdtempSync(path.join(tmp, 'cold-'))
  const { metafile } = await build(bundleOptions(entry, outdir, repoRoot))
  const outputs = metafile!.outputs
  const entryOutput = Object.keys(outputs).find((o) => o.endsWith('index.mjs'))!
  const loaded = new Set<string>()
  const pending = [entryOutput]
  while (pending.length) {
    const output = pending.pop()!
    if (loaded.has(output)) continue
    loaded.add(output)
    for (const imported of outputs[output]!.imports)
      if (imported.kind !== 'dynamic-import' && outputs[imported.path]) pending.push(imported.path)
  }
  return new Set([...loaded].flatMap((o) => Object.keys(outputs[o]!.inputs)))
}

describe('infra/build bundles', () => {
  it.each([
    ['api', ['lib/steps/registry.ts', 'lib/discovery/git.ts', 'node_modules/tar/']],
    ['reconcile', ['lib/steps/registry.ts', 'lib/discovery/git.ts', 'node_modules/isomorphic-git/']],
    ['discover', ['lib/steps/registry.ts']],
    ['promote', ['node_modules/tar/']],
  ])('keeps what %s does not need at cold start out of its cold start', async (fn, absent) => {
    const inputs = [...(await coldStartInputs(path.join(repoRoot, `functions/${fn}.ts`)))]
    for (const prefix of absent) expect(inputs.filter((i) => i.startsWith(prefix))).toEqual([])
  })

  it('carries the step JSON schemas inside the bundle, template-literal requires included', async () => {
    const { module, inputs } = await bundleAndImport(path.join(repoRoot, 'lib/steps/config-validation.ts'))
    expect(inputs).toContain('lib/steps/schemas/argocd-common.json')
    expect(inputs).toContain('lib/steps/schemas/git-clone-config.json')
    // Runs from a folder with no schemas/ beside it, as in Lambda.
    expect(
      module.validateStepConfig('git-clone', {
        repoURL: 'https://git.example.com/app.git',
        checkout: [{ branch: 'main', path: './src' }],
      }),
    ).toEqual([])
    expect(module.validateStepConfig('git-clone', { nope: 1 })).toContain('nope: unknown field')
    // argocd-update's schema $refs argocd-common.json, loaded by a separate static require.
    expect(module.validateStepConfig('argocd-update', { apps: [{ name: 'guestbook' }] })).toEqual([])
  })

  it('gives an api bundle that answers HTTP API (v2) and REST API (v1, the local stage) events', async () => {
    const { module } = await bundleAndImport(path.join(repoRoot, 'functions/api.ts'))
    const context = { awsRequestId: 'test', getRemainingTimeInMillis: () => 29_000 }
    const v2 = {
      version: '2.0',
      routeKey: 'ANY /{proxy+}',
      rawPath: '/healthz',
      rawQueryString: '',
      headers: { host: 'abc.execute-api.us-east-1.amazonaws.com' },
      requestContext: { http: { method: 'GET', path: '/healthz', sourceIp: '192.0.2.1' }, stage: '$default' },
      isBase64Encoded: false,
    }
    expect(await module.main(v2, context)).toMatchObject({ statusCode: 200, body: '{"status":"ok"}' })
    const v1 = {
      resource: '/{proxy+}',
      path: '/v1beta1/projects',
      httpMethod: 'GET',
      headers: { Host: 'abc.execute-api.localhost.localstack.cloud:4566' },
      multiValueHeaders: {},
      queryStringParameters: null,
      multiValueQueryStringParameters: null,
      pathParameters: { proxy: 'v1beta1/projects' },
      requestContext: {
        stage: 'local',
        path: '/local/v1beta1/projects',
        httpMethod: 'GET',
        identity: { sourceIp: '192.0.2.1' },
      },
      body: null,
      isBase64Encoded: false,
    }
    expect(await module.main(v1, context)).toMatchObject({ statusCode: 401 })
  })

  it('keeps zod English-only and working', async () => {
    const entry = path.join(repoRoot, 'lib/config.ts')
    const { module, inputs } = await bundleAndImport(entry)
    expect(inputs.filter((i) => /^node_modules\/zod\/v4\/locales\/(?!en\.js)/.test(i))).toEqual([])
    expect(() => module.loadConfig({ TUGBOAT_MIN_WAREHOUSE_INTERVAL_SECONDS: 'soon' })).toThrow(
      /expected number/,
    )
  })

  it('refuses a createRequire it cannot rewrite rather than shipping a bundle that fails at run time', async () => {
    const root = path.join(tmp, 'repo')
    fs.mkdirSync(path.join(root, 'lib'), { recursive: true })
    fs.writeFileSync(path.join(root, 'lib', 'data.json'), '{"ok":true}')
    const entry = path.join(root, 'lib', 'odd.ts')
    fs.writeFileSync(
      entry,
      "import { createRequire } from 'node:module'\nexport const data = createRequire(import.meta.url)('./data.json')\n",
    )
    await expect(bundleAndImport(entry, root)).rejects.toThrow(/does not rewrite/)
    fs.writeFileSync(
      entry,
      "import { createRequire } from 'node:module'\nconst require = createRequire(import.meta.url)\nexport const data = require('./data.json')\n",
    )
    const { module } = await bundleAndImport(entry, root)
    expect(module.data).toEqual({ ok: true })
  })
})

describe('handlersToBuild', () => {
  it('requires the four handlers and adds deliver once it exists', () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'functions-'))
    for (const name of ['api', 'discover', 'promote']) fs.writeFileSync(path.join(dir, `${name}.ts`), '')
    expect(() => handlersToBuild(dir)).toThrow(/reconcile\.ts missing/)
    fs.writeFileSync(path.join(dir, 'reconcile.ts'), '')
    expect(handlersToBuild(dir).map((h) => h.name)).toEqual(['api', 'discover', 'promote', 'reconcile'])
    fs.writeFileSync(path.join(dir, 'deliver.ts'), '')
    expect(handlersToBuild(dir).map((h) => h.name)).toEqual([
      'api',
      'discover',
      'promote',
      'reconcile',
      'deliver',
    ])
  })
})
