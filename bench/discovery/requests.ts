// HTTP requests of one image poll on a fresh Warehouse vs an unchanged one, against the real Distribution registry
// (plain, paginated through a spec-following front, and behind Docker token auth).
// Run: npx tsx bench/discovery/requests.ts
import { discoverCommits } from '../../lib/discovery/git.js'
import { discoverImages, type KnownImage } from '../../lib/discovery/image.js'
import { createTokenCache } from '../../lib/discovery/oci/registry-client.js'
import type { ImageDiscoveryResult, ImageSubscriptionInput } from '../../lib/discovery/types.js'
import { startGitServer } from '../../test/support/git-server.js'
import { pushImage, startRegistry, startRegistryFront } from '../../test/support/registry.js'
import { startTokenServer } from '../../test/support/token-server.js'

const tagCount = 60
const pageSize = 25
const limit = 20

function known(result: ImageDiscoveryResult): Map<string, KnownImage> {
  return new Map(
    result.references.map((r) => [
      r.tag,
      { digest: r.digest, ...(r.createdAt ? { createdAt: r.createdAt } : {}) },
    ]),
  )
}

type Row = {
  setup: string
  strategy: string
  fresh: ImageDiscoveryResult['stats']
  unchanged: ImageDiscoveryResult['stats']
  budget: number
}

async function main(): Promise<void> {
  const rows: Row[] = []
  const git = await gitPoll()
  const registry = await startRegistry()
  const tokens = await startTokenServer({ users: { bench: 'bench' } })
  const secured = await startRegistry({
    tokenAuth: { ...tokens, pushCredentials: { username: 'bench', password: 'bench' } },
  })
  const front = await startRegistryFront(registry, { tagPageSize: pageSize })
  try {
    for (const target of [registry, secured]) {
      for (let i = 0; i < tagCount; i++) {
        await pushImage(target, 'bench/app', `1.${Math.floor(i / 10)}.${i % 10}`, {
          created: new Date(Date.UTC(2024, 0, 1 + i)),
        })
      }
      await pushImage(target, 'bench/app', 'latest')
    }
    const setups = [
      { setup: `Distribution, 1 tag page`, host: registry.host, pages: 1, auth: false },
      {
        setup: `paginated (${pageSize}/page)`,
        host: front.host,
        pages: Math.ceil((tagCount + 1) / pageSize),
        auth: false,
      },
      { setup: 'token auth, shared token cache', host: secured.host, pages: 1, auth: true },
    ]
    const strategies: Array<{ strategy: string; sub: Partial<ImageSubscriptionInput>; manifests: number }> = [
      { strategy: `SemVer, discoveryLimit ${limit}`, sub: { discoveryLimit: limit }, manifests: limit },
      {
        strategy: `Lexical, discoveryLimit ${limit}`,
        sub: { imageSelectionStrategy: 'Lexical', discoveryLimit: limit },
        manifests: limit,
      },
      {
        strategy: `NewestBuild, discoveryLimit ${limit}`,
        sub: { imageSelectionStrategy: 'NewestBuild', discoveryLimit: limit },
        manifests: limit,
      },
      {
        strategy: 'Digest (`latest`)',
        sub: { imageSelectionStrategy: 'Digest', constraint: 'latest' },
        manifests: 1,
      },
    ]
    for (const s of setups) {
      for (const st of strategies) {
        const tokenCache = createTokenCache()
        const deps = s.auth ? { credentials: { username: 'bench', password: 'bench' }, tokenCache } : {}
        const sub = { repoURL: `${s.host}/bench/app`, ...st.sub }
        const fresh = await discoverImages(sub, deps)
        const unchanged = await discoverImages(sub, {
          ...deps,
          known: known(fresh.dated ? { ...fresh, references: fresh.dated } : fresh),
        })
        const pages = st.strategy.startsWith('Digest') ? 0 : s.pages
        rows.push({
          setup: s.setup,
          strategy: st.strategy,
          fresh: fresh.stats,
          unchanged: unchanged.stats,
          budget: pages + st.manifests,
        })
      }
    }
  } finally {
    await front.close()
    await secured.close()
    await registry.close()
    await tokens.close()
  }
  console.log(
    `One image poll, ${tagCount + 1} tags in the repository (requests counted by the client's onRequest hook)\n`,
  )
  console.log(
    '| registry | strategy | fresh: requests (tag pages / manifests / blobs / auth) | unchanged: requests (tag pages / manifests / blobs / auth) | budget: pages + discoveryLimit manifests | fresh within budget (excl. auth) | unchanged: 0 manifest reads |',
  )
  console.log('|---|---|---:|---:|---:|---|---|')
  const cell = (s: Row['fresh']): string =>
    `${s.requests} (${s.tagPages} / ${s.manifestReads} / ${s.blobReads} / ${s.authRequests})`
  for (const r of rows) {
    const freshCost = r.fresh.tagPages + r.fresh.manifestReads + r.fresh.blobReads
    const within =
      freshCost <= r.budget
        ? 'yes'
        : r.strategy.startsWith('NewestBuild')
          ? 'no (dates every candidate)'
          : 'no'
    const zero =
      r.unchanged.manifestReads === 0
        ? 'yes'
        : r.strategy.startsWith('Digest')
          ? 'no (mutable tag: 1 HEAD)'
          : 'no'
    console.log(
      `| ${r.setup} | ${r.strategy} | ${cell(r.fresh)} | ${cell(r.unchanged)} | ${r.budget} | ${within} | ${zero} |`,
    )
  }
  console.log(
    '\nauth = the 401 challenge + token request on the first poll; with a shared token cache the second poll needs neither.',
  )
  console.log(
    `git NewestFromBranch: fresh ${git.fresh} requests (${git.freshFetches} upload-pack), unchanged ${git.unchanged} (${git.unchangedFetches} upload-pack)`,
  )
  console.log(
    'NewestBuild must date every candidate on a fresh Warehouse (manifest + config blob each); passing its `dated` list back as `known` makes later polls free.',
  )
}

/** One git poll: fresh (ref listing + one shallow fetch) and unchanged (ref listing only). */
async function gitPoll(): Promise<{
  fresh: number
  freshFetches: number
  unchanged: number
  unchangedFetches: number
}> {
  const server = await startGitServer()
  try {
    const url = await server.createRepo('bench', { 'README.md': 'x' })
    for (let i = 0; i < 30; i++) await server.commit('bench', 'main', { 'a.txt': String(i) })
    const fresh = await discoverCommits({ repoURL: url })
    const unchanged = await discoverCommits({ repoURL: url }, { lastSeenRefs: fresh.refs })
    return {
      fresh: fresh.stats.requests,
      freshFetches: fresh.stats.fetches,
      unchanged: unchanged.stats.requests,
      unchangedFetches: unchanged.stats.fetches,
    }
  } finally {
    await server.close()
  }
}

await main()
