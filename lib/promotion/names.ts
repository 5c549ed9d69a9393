import { ulid } from 'ulid'

/** Kargo's Promotion name: `<stage>.<ulid>.<first 7 of freight>` (lowercase ULID, as Kargo prints it). */
export function promotionName(stage: string, freight: string, now = Date.now()): string {
  return `${stage}.${ulid(now).toLowerCase()}.${freight.slice(0, 7)}`
}

export const STAGE_LABEL = 'kargo.akuity.io/stage'
export const FREIGHT_LABEL = 'kargo.akuity.io/freight'
export const ORIGIN_LABEL = 'kargo.akuity.io/origin'
export const CREATE_ACTOR_ANNOTATION = 'kargo.akuity.io/create-actor'
