import { describe, expect, it } from 'vitest'
import type { StageSpec } from '../model/resources.js'
import type { Freight } from '../store/freight.js'
import { freightAvailability } from './availability.js'

const now = new Date('2026-01-01T12:00:00Z')
const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000).toISOString()

function freight(status: Freight['status'] = {}, origin = 'app'): Freight {
  return {
    apiVersion: 'kargo.akuity.io/v1alpha1',
    kind: 'Freight',
    metadata: {
      name: 'abcdef1234',
      resourceVersion: '1',
      uid: 'u',
      generation: 1,
      creationTimestamp: now.toISOString(),
    },
    alias: 'brave-otter',
    origin: { kind: 'Warehouse', name: origin },
    status,
  }
}

const spec = (sources: StageSpec['requestedFreight'][number]['sources']): StageSpec => ({
  requestedFreight: [{ origin: { kind: 'Warehouse', name: 'app' }, sources }],
})

describe('freightAvailability (Kargo semantics)', () => {
  it.each([
    ['direct', spec({ direct: true }), freight(), true, ''],
    [
      'another origin',
      spec({ direct: true }),
      freight({}, 'other'),
      false,
      'does not request Freight from Warehouse/other',
    ],
    ['verified upstream (OneOf)', spec({ stages: ['a', 'b'] }), freight({ verifiedIn: { b: {} } }), true, ''],
    ['not verified upstream', spec({ stages: ['a'] }), freight(), false, 'not verified in "a"'],
    [
      'All needs every upstream',
      spec({ stages: ['a', 'b'], availabilityStrategy: 'All' }),
      freight({ verifiedIn: { a: {} } }),
      false,
      'not verified in "b"',
    ],
    [
      'All satisfied',
      spec({ stages: ['a', 'b'], availabilityStrategy: 'All' }),
      freight({ verifiedIn: { a: {}, b: {} } }),
      true,
      '',
    ],
    [
      'soaking too briefly',
      spec({ stages: ['a'], requiredSoakTime: '1h' }),
      freight({ verifiedIn: { a: {} }, currentlyIn: { a: { since: minutesAgo(20) } } }),
      false,
      'soaked 20m of the required 1h',
    ],
    [
      'soaked long enough',
      spec({ stages: ['a'], requiredSoakTime: '1h' }),
      freight({ verifiedIn: { a: {} }, currentlyIn: { a: { since: minutesAgo(61) } } }),
      true,
      '',
    ],
    [
      'soaked earlier (longestSoak)',
      spec({ stages: ['a'], requiredSoakTime: '30m' }),
      freight({ verifiedIn: { a: { longestSoak: '45m' } } }),
      true,
      '',
    ],
    ['approved for the Stage', spec({ stages: ['a'] }), freight({ approvedFor: { target: {} } }), true, ''],
  ])('%s', (_name, stageSpec, candidate, available, reason) => {
    const result = freightAvailability('target', stageSpec, candidate, now)
    expect(result.available).toBe(available)
    if (!result.available) expect(result.reason).toContain(reason)
  })
})
