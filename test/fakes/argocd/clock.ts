/** A clock tests move by hand, so that the fake's operation lifecycle does not depend on machine load. */
export interface ManualClock {
  now: () => number
  advance(ms: number): void
}

/** Starts at a whole second (Kubernetes times have second precision), 2025-01-01T00:00:00Z by default. */
export function manualClock(startMs = Date.parse('2025-01-01T00:00:00Z')): ManualClock {
  let current = startMs
  return {
    now: () => current,
    advance(ms) {
      current += ms
    },
  }
}
