/** Named condition expressions for conditional writes, so every write states its precondition plainly. */
export const condition = {
  absent: { ConditionExpression: 'attribute_not_exists(PK)' },
  present: { ConditionExpression: 'attribute_exists(PK)' },
  atVersion: (version: number) => ({
    ConditionExpression: 'attribute_exists(PK) AND #version = :expectedVersion',
    ExpressionAttributeNames: { '#version': 'version' },
    ExpressionAttributeValues: { ':expectedVersion': version },
  }),
} as const

/** True for DynamoDB's "condition failed", alone or inside a cancelled transaction. */
export function isConditionFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return false
  if (error.name === 'ConditionalCheckFailedException') return true
  if (error.name === 'TransactionCanceledException') {
    const reasons =
      (error as Error & { CancellationReasons?: Array<{ Code?: string }> }).CancellationReasons ?? []
    return (
      reasons.some((r) => r.Code === 'ConditionalCheckFailed') || /ConditionalCheckFailed/.test(error.message)
    )
  }
  return false
}
