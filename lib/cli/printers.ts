import { stringify } from 'yaml'
import { age, renderTable } from './table.js'

type Resource = Record<string, any> // eslint-disable-line @typescript-eslint/no-explicit-any

export type OutputFormat = 'table' | 'json' | 'yaml'

export function printStructured(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) : stringify(value).trimEnd()
}

const name = (r: Resource) => String(r.metadata?.name ?? '')
const created = (r: Resource) => age(r.metadata?.creationTimestamp)

function condition(r: Resource, type: string): Resource | undefined {
  return (r.status?.conditions ?? []).find((c: Resource) => c.type === type)
}

function freightSources(stage: Resource): string {
  return (stage.spec?.requestedFreight ?? [])
    .map((req: Resource) => {
      const from = [
        req.sources?.direct ? 'direct' : undefined,
        ...(req.sources?.stages ?? []).map((s: string) => `stage/${s}`),
      ].filter(Boolean)
      return `${req.origin?.name} ← ${from.join(',') || '-'}`
    })
    .join('; ')
}

function currentFreight(stage: Resource): string {
  const items = stage.status?.freightHistory?.[0]?.items
  if (!items) return ''
  return Object.values(items as Record<string, Resource>)
    .map((f) => String(f.name ?? '').slice(0, 7))
    .join(',')
}

export function artifactsOf(f: Resource): string {
  return [
    ...(f.images ?? []).map((i: Resource) => `${i.repoURL}:${i.tag}`),
    ...(f.commits ?? []).map((c: Resource) => `${c.repoURL}@${c.tag ?? String(c.id ?? '').slice(0, 7)}`),
    ...(f.charts ?? []).map((c: Resource) => `${c.repoURL}/${c.name}:${c.version}`),
  ].join(', ')
}

/** kubectl-style tables for each kind `tugboat get` shows. */
export const tables: Record<string, (items: Resource[]) => string> = {
  config: (items) => {
    const receivers = items.flatMap((c) => (c.status?.webhookReceivers ?? []) as Resource[])
    const ready = condition(items[0] ?? {}, 'WebhookReceiversReady')
    return [
      receivers.length
        ? renderTable(
            ['RECEIVER', 'URL'],
            receivers.map((r) => [String(r.name ?? ''), String(r.url ?? r.path ?? '')]),
          )
        : 'No webhook receivers.',
      ...(ready?.status === 'False' ? [`Not ready: ${String(ready.message ?? '')}`] : []),
    ].join('\n')
  },
  projects: (items) =>
    renderTable(
      ['NAME', 'AGE'],
      items.map((p) => [name(p), created(p)]),
    ),
  warehouses: (items) =>
    renderTable(
      ['NAME', 'INTERVAL', 'LAST FREIGHT', 'READY', 'AGE', 'MESSAGE'],
      items.map((w) => [
        name(w),
        String(w.spec?.interval ?? ''),
        String(w.status?.lastFreightID ?? '').slice(0, 7),
        String(condition(w, 'Ready')?.status ?? 'Unknown'),
        created(w),
        String(condition(w, 'Ready')?.message ?? '').slice(0, 100),
      ]),
    ),
  stages: (items) =>
    renderTable(
      ['NAME', 'CURRENT FREIGHT', 'HEALTH', 'PHASE', 'SOURCES', 'AGE'],
      items.map((s) => [
        name(s),
        currentFreight(s),
        String(s.status?.health?.status ?? ''),
        String(s.status?.phase ?? 'NotApplicable'),
        freightSources(s),
        created(s),
      ]),
    ),
  freight: (items) =>
    renderTable(
      ['NAME', 'ALIAS', 'ORIGIN', 'ARTIFACTS', 'VERIFIED IN', 'AGE'],
      items.map((f) => [
        name(f),
        String(f.alias ?? ''),
        `${f.origin?.kind}/${f.origin?.name}`,
        artifactsOf(f),
        Object.keys(f.status?.verifiedIn ?? {}).join(',') || '-',
        age(f.discoveredAt ?? f.metadata?.creationTimestamp),
      ]),
    ),
  promotions: (items) =>
    renderTable(
      ['NAME', 'STAGE', 'FREIGHT', 'PHASE', 'AGE'],
      items.map((p) => [
        name(p),
        String(p.spec?.stage ?? ''),
        String(p.spec?.freight ?? ''),
        String(p.status?.phase ?? 'Pending'),
        created(p),
      ]),
    ),
  'promotion-tasks': (items) =>
    renderTable(
      ['NAME', 'STEPS', 'AGE'],
      items.map((t) => [name(t), String(t.spec?.steps?.length ?? 0), created(t)]),
    ),
  'analysis-templates': (items) =>
    renderTable(
      ['NAME', 'METRICS', 'AGE'],
      items.map((t) => [name(t), String(t.spec?.metrics?.length ?? 0), created(t)]),
    ),
}
