import { describe, expect, it } from 'vitest'
import { promotionEvent, discoveryFailedEvent } from './builders.js'
import { EventSubscriptionManifestSchema, subscriptionMatches, typeMatches } from './subscriptions.js'

const event = promotionEvent('succeeded', {
  project: 'p',
  stage: 'prod',
  freight: { name: 'f', alias: 'a' },
  promotion: { name: 'prod.x', phase: 'Succeeded' },
})
const noStage = discoveryFailedEvent({ project: 'p', warehouse: 'w', message: 'down' })

describe('EventSubscription', () => {
  it.each([
    [undefined, true],
    [[event.type], true],
    [['dev.cdeventsx.tugboat-promotion.*'], true],
    [['dev.cdevents.*'], false],
    [['dev.cdeventsx.tugboat-promotion.failed.0.1.0', '*'], true],
  ])('types %o match a promotion.succeeded: %s', (types, expected) => {
    expect(typeMatches(types, event.type)).toBe(expected)
  })

  it('filters by stage; events about no Stage never pass a stage filter', () => {
    expect(subscriptionMatches({ url: 'http://x', stages: ['prod'] }, event)).toBe(true)
    expect(subscriptionMatches({ url: 'http://x', stages: ['dev'] }, event)).toBe(false)
    expect(subscriptionMatches({ url: 'http://x', stages: ['prod'] }, noStage)).toBe(false)
    expect(subscriptionMatches({ url: 'http://x' }, noStage)).toBe(true)
  })

  it.each([
    [
      'a good manifest',
      {
        url: 'https://hooks.example.com/x',
        types: ['dev.cdevents.service.*'],
        stages: ['prod'],
        secretRef: { name: 'hook' },
      },
      [],
    ],
    ['ftp', { url: 'ftp://example.com' }, ['spec.url']],
    ['credentials in the URL', { url: 'https://user:pw@example.com' }, ['spec.url']],
    ['a star in the middle', { url: 'https://example.com', types: ['dev.*.deployed'] }, ['spec.types.0']],
    ['an unknown field', { url: 'https://example.com', secret: 'x' }, ['spec']],
  ])('validates %s', (_name, spec, paths) => {
    const result = EventSubscriptionManifestSchema.safeParse({
      apiVersion: 'tugboat.io/v1alpha1',
      kind: 'EventSubscription',
      metadata: { name: 'hook', namespace: 'p' },
      spec,
    })
    expect(result.success ? [] : result.error.issues.map((i) => i.path.join('.'))).toEqual(paths)
  })
})
