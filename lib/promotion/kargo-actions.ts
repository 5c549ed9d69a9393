import { ConflictError, ValidationError } from '../errors.js'
import { ResourceNameSchema } from '../model/meta.js'
import type { Db } from '../store/client.js'
import { condition } from '../store/conditions.js'
import { ALIAS_LABEL, requireFreight } from '../store/freight.js'
import { nextVersion, putItem, updateResource, writeAll } from '../store/resources.js'
import { keys } from '../store/table.js'
import type { KargoActions } from '../steps/types.js'

/** The Kargo-side effects steps may have, bound to one project. */
export function kargoActions(db: Db, project: string): KargoActions {
  return {
    async setFreightAlias(freightName, alias) {
      if (!ResourceNameSchema.safeParse(alias).success)
        throw new ValidationError(`alias "${alias}" is not a valid name`)
      const freight = await requireFreight(db, project, freightName)
      if (freight.alias === alias) return
      const ref = { project, kind: 'Freight', name: freight.metadata.name }
      const write = {
        ref,
        resource: {
          ...freight,
          alias,
          metadata: { ...freight.metadata, labels: { ...freight.metadata.labels, [ALIAS_LABEL]: alias } },
        },
        expect: Number(freight.metadata.resourceVersion),
      }
      // The Freight, its new alias claim and the release of the old one move together.
      await writeAll(
        db,
        [
          { Put: putItem(db, write, nextVersion(write, freight)) },
          {
            Put: {
              TableName: db.table,
              Item: {
                ...keys.resource(project, 'FreightAlias', alias),
                kind: 'FreightAlias',
                freight: freight.metadata.name,
              },
              ...condition.absent,
            },
          },
          { Delete: { TableName: db.table, Key: keys.resource(project, 'FreightAlias', freight.alias) } },
        ],
        `alias "${alias}" is already used in project "${project}"`,
      ).catch((error: unknown) => {
        throw error instanceof ConflictError ? new ValidationError(error.message) : error
      })
    },
    async setMetadata(target, values) {
      const name =
        target.kind === 'Freight'
          ? (await requireFreight(db, project, target.name)).metadata.name
          : target.name
      await updateResource(db, { project, kind: target.kind, name }, (resource) => {
        const status = { ...(resource.status ?? {}) } as { metadata?: Record<string, unknown> }
        status.metadata = { ...status.metadata, ...values }
        return { ...resource, status }
      })
    },
  }
}
