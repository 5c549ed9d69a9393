import { z } from 'zod'

// Subscription shapes mirror ../shared/contracts/kargo/subscription-schemas/*.json (field names exact).

/** Image selection strategies Kargo knows. */
export const ImageSelectionStrategySchema = z.enum(['Digest', 'Lexical', 'NewestBuild', 'SemVer'])
export type ImageSelectionStrategy = z.infer<typeof ImageSelectionStrategySchema>

const imageRepoURLPattern = /^(\w+([.-]\w+)*(:[\d]+)?\/)?(\w+([.-]\w+)*)(\/\w+([.-]\w+)*)*$/

/**
 * An image subscription (image.json), plus the legacy `semverConstraint` that older seeds use for `constraint`.
 * `platform` also accepts an `os/arch/variant` form (Kargo's parser does; its JSON schema is narrower).
 */
export const ImageSubscriptionSchema = z
  .object({
    repoURL: z
      .string()
      .min(1)
      .regex(imageRepoURLPattern, 'must be a valid image repository URL (no scheme, no tag)'),
    imageSelectionStrategy: ImageSelectionStrategySchema.default('SemVer'),
    strictSemvers: z.boolean().default(true),
    constraint: z.string().optional(),
    /** Legacy name of `constraint`; used only when `constraint` is empty. */
    semverConstraint: z.string().optional(),
    /** Deprecated; Kargo fails discovery when it is non-empty. */
    allowTags: z.string().optional(),
    allowTagsRegexes: z.array(z.string()).optional(),
    /** Deprecated; Kargo fails discovery when it is non-empty. */
    ignoreTags: z.array(z.string()).optional(),
    ignoreTagsRegexes: z.array(z.string()).optional(),
    platform: z
      .string()
      .regex(/^\w+\/\w+(\/\w+)?$/, 'must be in the form <os>/<arch>[/<variant>]')
      .optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
    cacheByTag: z.boolean().default(false),
  })
  .strict()
export type ImageSubscription = z.infer<typeof ImageSubscriptionSchema>
export type ImageSubscriptionInput = z.input<typeof ImageSubscriptionSchema>

/** Commit selection strategies Kargo knows. */
export const CommitSelectionStrategySchema = z.enum(['NewestFromBranch', 'SemVer', 'Lexical', 'NewestTag'])
export type CommitSelectionStrategy = z.infer<typeof CommitSelectionStrategySchema>

const gitRepoURLPattern =
  /(?:^(ssh|https?):\/\/(?:([\w-]+)(:(.+))?@)?([\w-]+(?:\.[\w-]+)*)(?::(\d{1,5}))?(\/.*)$)|(?:^([\w-]+)@([\w+]+(?:\.[\w-]+)*):(\/?.*))$/

/** A git subscription (git.json). */
export const GitSubscriptionSchema = z
  .object({
    repoURL: z.string().min(1).regex(gitRepoURLPattern, 'must be a valid Git repository URL'),
    commitSelectionStrategy: CommitSelectionStrategySchema.default('NewestFromBranch'),
    branch: z
      .string()
      .min(1)
      .max(255)
      .regex(/^[a-zA-Z0-9]([a-zA-Z0-9._/-]*[a-zA-Z0-9_-])?$/, 'must be a valid branch name')
      .optional(),
    strictSemvers: z.boolean().default(true),
    semverConstraint: z.string().optional(),
    /** Deprecated; Kargo fails discovery when it is non-empty. */
    allowTags: z.string().optional(),
    allowTagsRegexes: z.array(z.string()).optional(),
    /** Deprecated; Kargo fails discovery when it is non-empty. */
    ignoreTags: z.array(z.string()).optional(),
    ignoreTagsRegexes: z.array(z.string()).optional(),
    /** Accepted by the schema; discovery rejects a non-empty value (not implemented here). */
    expressionFilter: z.string().optional(),
    insecureSkipTLSVerify: z.boolean().optional(),
    blobless: z.boolean().optional(),
    includePaths: z.array(z.string()).optional(),
    excludePaths: z.array(z.string()).optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
    since: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
export type GitSubscription = z.infer<typeof GitSubscriptionSchema>
export type GitSubscriptionInput = z.input<typeof GitSubscriptionSchema>

/** A chart subscription (chart.json): a classic HTTP(S) repository plus `name`, or an `oci://` chart. */
export const ChartSubscriptionSchema = z
  .object({
    repoURL: z
      .string()
      .min(1)
      .regex(
        /^(((https?)|(oci)):\/\/)(([\w\d.-]+)(:([\d]+)?)?(\/.*)*)$/,
        'must be an http(s):// or oci:// URL',
      ),
    name: z.string().optional(),
    semverConstraint: z.string().optional(),
    discoveryLimit: z.number().int().min(1).max(100).default(20),
    insecureSkipTLSVerify: z.boolean().optional(),
  })
  .strict()
export type ChartSubscription = z.infer<typeof ChartSubscriptionSchema>
export type ChartSubscriptionInput = z.input<typeof ChartSubscriptionSchema>

/** Username/password for a registry, git host or chart repository. Never logged or put in a message. */
export interface Credentials {
  username: string
  password: string
}

/** One image revision (Kargo's DiscoveredImageReference). */
export interface DiscoveredImageReference {
  tag: string
  digest: string
  /** RFC 3339; set when the strategy needed it (NewestBuild) or the manifest/index carried it for free. */
  createdAt?: string
  annotations?: Record<string, string>
}

/** Counts of registry requests made by one discovery call. */
export interface RequestStats {
  /** Every HTTP request, including auth challenges and token fetches. */
  requests: number
  tagPages: number
  manifestReads: number
  blobReads: number
  /** Requests answered with a 401 challenge, plus token-service requests. */
  authRequests: number
}

/** What `discoverImages` returns: references newest first, at most `discoveryLimit`. */
export interface ImageDiscoveryResult {
  repoURL: string
  platform?: string
  references: DiscoveredImageReference[]
  /**
   * NewestBuild only: every candidate with its creation time, not cut to `discoveryLimit`. Passed back as `known`,
   * it lets the next poll read only tags it has never seen (otherwise every candidate outside the top is re-dated).
   */
  dated?: DiscoveredImageReference[]
  stats: RequestStats
}

/** One commit (Kargo's DiscoveredCommit, plus the Freight's `message`). */
export interface DiscoveredCommit {
  id: string
  branch?: string
  tag?: string
  /** First line of the commit message (what Freight stores as `message`). */
  message: string
  /** The same subject, shortened to 80 characters as Kargo stores it in Warehouse status. */
  subject: string
  /** `Name <email>`. */
  author: string
  /** `Name <email>`. */
  committer: string
  /** RFC 3339: the tagger date of an annotated tag, else the commit's committer date. */
  creatorDate: string
}

/** Kargo's `observedRefs` (Warehouse status): the branch tip, or the name-filtered tags sorted by name. */
export interface GitObservedRefs {
  branchHead?: string
  tags?: Array<{ name: string; id: string }>
}

/** What `discoverCommits` returns. With `unchanged: true`, the relevant refs equal `lastSeenRefs`; `commits` is empty and the caller keeps its previous result. */
export interface GitDiscoveryResult {
  repoURL: string
  unchanged: boolean
  commits: DiscoveredCommit[]
  /** Relevant advertised refs (full ref name → object id) to pass back as `lastSeenRefs` next time. */
  refs: Record<string, string>
  observedRefs: GitObservedRefs
  stats: { requests: number; fetches: number }
}

/** What `discoverCharts` returns: versions newest first. */
export interface ChartDiscoveryResult {
  repoURL: string
  name?: string
  semverConstraint?: string
  versions: string[]
  stats: { requests: number }
}
