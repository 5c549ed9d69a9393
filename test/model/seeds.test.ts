import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { parseManifests } from '../../lib/model/manifests.js'
import { defaultSemanticChecks } from '../../lib/model/semantic-checks.js'

const seedsDir = path.resolve(__dirname, '../../../shared/seeds')
const seed004 = fs.readdirSync(seedsDir).find((f) => f.startsWith('004'))!
const seedText = fs.readFileSync(path.join(seedsDir, seed004), 'utf8')

/** The YAML the seed prints between two markers, split into documents at each top-level apiVersion. */
function seedDocuments(after: string, before: string): unknown[] {
  const start = seedText.indexOf(after)
  const end = seedText.indexOf(before, start)
  expect(start, `marker "${after}" in seed 004`).toBeGreaterThan(-1)
  const block = seedText.slice(start + after.length, end)
  return block
    .split(/^(?=apiVersion:)/m)
    .filter((d) => d.trim().startsWith('apiVersion'))
    .map((d) => parse(d))
}

const exampleText = (file: string) => fs.readFileSync(path.resolve(__dirname, '../../examples', file), 'utf8')

describe('seed 004 manifests, saved in examples/silly-demo', () => {
  it.each([
    [
      'project.yaml',
      'cat kargo-manifests/project.yaml\n\nThe output is as follows.\n',
      'There’s not much happening',
    ],
    [
      'warehouse.yaml',
      'cat kargo-manifests/warehouse.yaml\n\nThe output is as follows.\n',
      'That warehouse subscribes',
    ],
  ])('%s is the seed text', (file, after, before) => {
    expect(parse(exampleText(`silly-demo/${file}`))).toEqual(seedDocuments(after, before)[0])
  })

  it('the three Stages are the seed text', () => {
    const stages = seedDocuments(
      'cat kargo-manifests/stage-*.yaml\n\nThe output is as follows.\n',
      'The first Stage is called dev.',
    )
    expect(stages).toHaveLength(3)
    for (const stage of stages as Array<{ metadata: { name: string } }>) {
      expect(parse(exampleText(`silly-demo/stage-${stage.metadata.name}.yaml`))).toEqual(stage)
    }
  })

  it('every document is accepted as written, into the project given like kubectl --namespace', () => {
    const dir = path.resolve(__dirname, '../../examples/silly-demo')
    const text = fs
      .readdirSync(dir)
      .sort()
      .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
      .join('\n---\n')
    const docs = parseManifests(text, { defaultProject: 'silly-demo', semanticChecks: defaultSemanticChecks })
    expect(docs.map((d) => `${d.kind}/${d.name}@${d.project}`).sort()).toEqual([
      'Project/silly-demo@silly-demo',
      'Secret/silly-demo-repo@silly-demo',
      'Stage/dev@silly-demo',
      'Stage/pre-prod@silly-demo',
      'Stage/prod@silly-demo',
      'Warehouse/silly-demo@silly-demo',
    ])
  })
})

describe('seed 002 Stage examples', () => {
  it.each(['seed-002/stages.yaml', 'seed-002/multi-origin-stage.yaml'])('%s is accepted', (file) => {
    const docs = parseManifests(exampleText(file), { semanticChecks: defaultSemanticChecks })
    expect(docs.every((d) => d.kind === 'Stage' && d.project === 'kargo-demo')).toBe(true)
  })

  it('keeps the legacy git-push branch, messageFromSteps and expressions in the template', () => {
    const [test] = parseManifests(exampleText('seed-002/stages.yaml'), {
      semanticChecks: defaultSemanticChecks,
    })
    if (test?.kind !== 'Stage') throw new Error('expected a Stage')
    const steps = test.manifest.spec.promotionTemplate!.spec.steps!
    expect(steps.find((s) => s.uses === 'git-push')?.config).toEqual({
      path: '${{ vars.outPath }}',
      branch: '${{ vars.targetBranch }}',
    })
    expect(test.manifest.spec.promotionTemplate!.spec.vars).toContainEqual({
      name: 'targetBranch',
      value: 'stage/${{ ctx.stage }}',
    })
  })
})
