import type { StageSpec } from '../model/resources.js'
import type { Freight } from '../store/freight.js'
import { formatDuration, parseDuration } from './durations.js'

export type Availability = { available: true; via: string } | { available: false; reason: string }

type RequestedFreight = StageSpec['requestedFreight'][number]

/** The Stage's request for Freight from this Freight's origin, if any. */
export function requestFor(spec: StageSpec, freight: Pick<Freight, 'origin'>): RequestedFreight | undefined {
  return spec.requestedFreight.find(
    (r) => r.origin.kind === freight.origin.kind && r.origin.name === freight.origin.name,
  )
}

function soakedFor(freight: Freight, upstream: string, now: Date): number {
  const longest = freight.status?.verifiedIn?.[upstream]?.longestSoak
  const since = freight.status?.currentlyIn?.[upstream]?.since
  const current = since ? now.getTime() - Date.parse(since) : 0
  return Math.max(longest ? parseDuration(longest) : 0, current)
}

/**
 * Kargo's availability rule: Freight may be promoted to a Stage when the Stage takes it directly from
 * its origin, when it was approved for the Stage, or when it is verified in the upstream Stages
 * (any one by default, every one with `availabilityStrategy: All`) and soaked there long enough.
 * An unavailable answer says why, for a 400 the user can act on.
 */
export function freightAvailability(
  stageName: string,
  spec: StageSpec,
  freight: Freight,
  now = new Date(),
): Availability {
  const request = requestFor(spec, freight)
  if (!request) {
    const wanted = spec.requestedFreight.map((r) => `${r.origin.kind}/${r.origin.name}`).join(', ')
    return {
      available: false,
      reason: `Stage "${stageName}" does not request Freight from ${freight.origin.kind}/${freight.origin.name} (it requests ${wanted})`,
    }
  }
  if (freight.status?.approvedFor?.[stageName]) return { available: true, via: 'approval' }
  if (request.sources.direct) return { available: true, via: 'direct' }
  const upstream = request.sources.stages ?? []
  if (upstream.length === 0) {
    return {
      available: false,
      reason: `Stage "${stageName}" takes Freight neither directly nor from upstream Stages; approve it for the Stage first`,
    }
  }
  const soakMs = request.sources.requiredSoakTime
    ? parseDuration(request.sources.requiredSoakTime, 'requiredSoakTime')
    : 0
  const verdicts = upstream.map((s) => {
    if (!freight.status?.verifiedIn?.[s]) return { stage: s, ok: false, why: `not verified in "${s}"` }
    if (soakMs > 0) {
      const soaked = soakedFor(freight, s, now)
      if (soaked < soakMs) {
        return {
          stage: s,
          ok: false,
          why: `verified in "${s}" but soaked ${formatDuration(soaked)} of the required ${formatDuration(soakMs)}`,
        }
      }
    }
    return { stage: s, ok: true, why: '' }
  })
  const all = request.sources.availabilityStrategy === 'All'
  const ok = all ? verdicts.every((v) => v.ok) : verdicts.some((v) => v.ok)
  if (ok)
    return {
      available: true,
      via: `upstream ${verdicts
        .filter((v) => v.ok)
        .map((v) => v.stage)
        .join(',')}`,
    }
  const failing = verdicts.filter((v) => !v.ok).map((v) => v.why)
  return {
    available: false,
    reason: `Freight ${freight.alias ? `"${freight.alias}" ` : ''}(${freight.metadata.name.slice(0, 7)}) is not available to Stage "${stageName}": ${failing.join(all ? ' and ' : '; ')}${all ? ' (availabilityStrategy All)' : ''}, and it is not approved for "${stageName}"`,
  }
}
