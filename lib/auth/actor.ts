import type { Role } from '../store/tokens.js'

/** Who is calling, and what they may do. */
export interface Actor {
  /** Shown in `createdBy` and events: the token's name. */
  name: string
  role: Role
  /** The project the role applies to; absent for the system admin. */
  project?: string
}

const rank: Record<Role, number> = {
  'kargo-viewer': 1,
  'kargo-promoter': 2,
  'kargo-admin': 3,
  'system-admin': 4,
}

function holds(actor: Actor, project: string, needed: Role): boolean {
  if (actor.role === 'system-admin') return true
  return actor.project === project && rank[actor.role] >= rank[needed]
}

export const canView = (actor: Actor, project: string) => holds(actor, project, 'kargo-viewer')
export const canPromote = (actor: Actor, project: string) => holds(actor, project, 'kargo-promoter')
export const canAdminister = (actor: Actor, project: string) => holds(actor, project, 'kargo-admin')
