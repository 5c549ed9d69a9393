import fs from 'node:fs'
import path from 'node:path'
import { Document, isMap, parseDocument, visit } from 'yaml'
import { z } from 'zod'
import { TerminalError } from '../errors.js'
import type { FreightCollection, Step, StepContext, StepResult } from './types.js'
import { resolveInWorkspaceReal } from '../git/safe-path.js'

/*
 * `kustomize-set-image`: sets `images` entries of a Kustomization file the way `kustomize edit set image` and Kargo
 * do. Each target replaces the whole entry of the same `name`, except fields given as `*`, which keep the existing
 * value; the list is re-sorted by name. The rest of the file keeps its comments and key order (edited with the `yaml`
 * Document API). Output: `commitMessage` ("Updated <path> to use new image(s)" and one `- ref` line per image).
 *
 * Without `images`, every image of the Freight is set (tag and digest). An image given with neither `tag` nor `digest`
 * (the v1.0 form, with `fromOrigin` and `useDigest`) takes its tag, and with `useDigest` its digest, from the Freight.
 */

const OriginSchema = z.strictObject({ kind: z.literal('Warehouse'), name: z.string().min(1) })

const ImageSchema = z
  .strictObject({
    image: z.string().min(1),
    tag: z.string().nullish(),
    digest: z.string().nullish(),
    name: z.string().optional(),
    newName: z.string().optional(),
    fromOrigin: OriginSchema.optional(),
    useDigest: z.boolean().optional(),
  })
  .refine((i) => !(i.tag && i.digest), { message: 'tag and digest are mutually exclusive' })

/** Mirrors `kustomize-set-image-config.json`, plus the v1.0 fields `fromOrigin` and `useDigest`. */
export const KustomizeSetImageConfigSchema = z.strictObject({
  path: z.string().min(1),
  images: z.array(ImageSchema).optional(),
})
export type KustomizeSetImageConfig = z.infer<typeof KustomizeSetImageConfigSchema>
type ImageConfig = NonNullable<KustomizeSetImageConfig['images']>[number]

/** One `images` entry of a Kustomization, fields in kustomize's order. */
export interface KustomizeImage {
  name: string
  newName?: string
  tagSuffix?: string
  newTag?: string
  digest?: string
}

const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization']
const PRESERVE = '*'

/** The `kustomize-set-image` step. */
export const kustomizeSetImage: Step<KustomizeSetImageConfig> = {
  kind: 'kustomize-set-image',
  config: KustomizeSetImageConfigSchema,
  async run(ctx: StepContext, cfg: KustomizeSetImageConfig): Promise<StepResult> {
    const file = findKustomization(ctx.workDir, cfg.path)
    const targets =
      cfg.images && cfg.images.length > 0
        ? targetsFromConfig(cfg.images, ctx.freight)
        : targetsFromFreight(ctx.freight)
    const label = path.relative(ctx.workDir, file)
    if (Object.keys(targets).length === 0) {
      ctx.log('the Freight has no images; nothing to set')
      return { status: 'Succeeded' }
    }
    const updated = setImages(fs.readFileSync(file, 'utf8'), targets, label)
    fs.writeFileSync(file, updated.text)
    ctx.log(`updated ${Object.keys(targets).length} image(s) in ${label}`)
    const commitMessage = buildCommitMessage(cfg.path, updated.forMessage)
    return { status: 'Succeeded', output: commitMessage ? { commitMessage } : undefined }
  },
}

/** The one Kustomization file in `dir` (kustomization.yaml, .yml or Kustomization); none or several is an error. */
export function findKustomization(workDir: string, dir: string): string {
  const abs = resolveInWorkspaceReal(workDir, dir)
  const found = KUSTOMIZATION_FILES.map((name) => path.join(abs, name)).filter((p) => {
    try {
      return fs.lstatSync(p).isFile()
    } catch {
      return false
    }
  })
  if (found.length === 0)
    throw new TerminalError(`could not find any Kustomization files in "${dir}"`, { data: { path: dir } })
  if (found.length > 1) {
    const names = found.map((p) => path.basename(p)).join(', ')
    throw new TerminalError(`ambiguous result: found multiple Kustomization files in "${dir}": ${names}`, {
      data: { path: dir },
    })
  }
  return found[0] ?? ''
}

function targetsFromConfig(
  images: ImageConfig[],
  freight: FreightCollection,
): Record<string, KustomizeImage> {
  const targets: Record<string, KustomizeImage> = {}
  for (const img of images) {
    const target: KustomizeImage = { name: img.name || img.image }
    if (img.newName) target.newName = img.newName
    if (img.digest) {
      target.digest = img.digest
    } else if (img.tag) {
      target.newTag = img.tag
    } else {
      const found = findFreightImage(freight, img.image, img.fromOrigin)
      if (found.tag) target.newTag = found.tag
      if (img.useDigest && found.digest) target.digest = found.digest
    }
    targets[target.name] = target
  }
  return targets
}

/** The Freight's image from `repoURL` (from `origin` when given); several origins providing it is ambiguous. */
function findFreightImage(
  freight: FreightCollection,
  repoURL: string,
  origin: { kind: string; name: string } | undefined,
): { tag?: string; digest?: string } {
  const matches: Array<{ tag?: string; digest?: string }> = []
  for (const ref of Object.values(freight.items)) {
    if (origin && (ref.origin.kind !== origin.kind || ref.origin.name !== origin.name)) continue
    const image = ref.images?.find((i) => i.repoURL === repoURL)
    if (image) matches.push(image)
  }
  if (matches.length === 0) {
    throw new TerminalError(
      `unable to discover image for "${repoURL}": image from repo ${repoURL} not found in referenced Freight`,
    )
  }
  if (matches.length > 1) {
    throw new TerminalError(
      `multiple requested Freight could potentially provide a container image from repository ${repoURL}: ` +
        'please provide a Freight origin to disambiguate',
    )
  }
  return matches[0] ?? {}
}

function targetsFromFreight(freight: FreightCollection): Record<string, KustomizeImage> {
  const targets: Record<string, KustomizeImage> = {}
  const origins = new Map<string, string>()
  for (const [key, ref] of Object.entries(freight.items)) {
    for (const image of ref.images ?? []) {
      const seen = origins.get(image.repoURL)
      if (seen !== undefined && seen !== key) {
        throw new TerminalError('manual configuration required due to ambiguous result', {
          data: { image: image.repoURL },
        })
      }
      origins.set(image.repoURL, key)
      const target: KustomizeImage = { name: image.repoURL }
      if (image.tag) target.newTag = image.tag
      if (image.digest) target.digest = image.digest
      targets[image.repoURL] = target
    }
  }
  return targets
}

/** Merges `targets` into the `images` of a Kustomization's text; returns the new text and the images for the message. */
export function setImages(
  text: string,
  targets: Record<string, KustomizeImage>,
  label = 'Kustomization',
): { text: string; forMessage: Record<string, KustomizeImage> } {
  const parsed = parseDocument(text)
  if (parsed.errors.length > 0) {
    throw new TerminalError(`could not parse ${label}: ${parsed.errors[0]?.message ?? 'invalid YAML'}`)
  }
  const doc: Document = parsed.contents === null ? new Document({}) : parsed
  if (!isMap(doc.contents)) throw new TerminalError(`${label} is not a YAML mapping`)
  const merged = mergeImages(currentImages(doc, label), targets)
  const images = doc.createNode(merged.images.map(ordered))
  // yaml.v3 (kustomize, Kargo) also quotes YAML 1.1 booleans such as `yes` or `on`; do the same.
  visit(images, {
    Scalar(_key, node) {
      if (typeof node.value === 'string' && YAML11_BOOL.test(node.value)) node.type = 'QUOTE_DOUBLE'
    },
  })
  doc.set('images', images)
  return { text: doc.toString({ indentSeq: false, lineWidth: 0 }), forMessage: merged.forMessage }
}

const CurrentImageSchema = z.object({
  name: z.string().default(''),
  newName: z.string().optional(),
  tagSuffix: z.string().optional(),
  newTag: z.coerce.string().optional(),
  digest: z.string().optional(),
})

function currentImages(doc: Document, label: string): KustomizeImage[] {
  const raw: unknown = doc.toJS().images
  if (raw === undefined || raw === null) return []
  const parsed = z.array(CurrentImageSchema).safeParse(raw)
  if (!parsed.success)
    throw new TerminalError(`could not decode images field in ${label}: ${parsed.error.issues[0]?.message}`)
  return parsed.data
}

export interface MergedImages {
  /** The new `images` list, sorted by name. */
  images: KustomizeImage[]
  /**
   * What Kargo's commit message lists: the targets with `*` resolved against existing entries, plus every untouched
   * existing entry (Kargo's merge writes both into the map its message is built from).
   */
  forMessage: Record<string, KustomizeImage>
}

/** Kargo's merge: targets replace entries of the same name (`*` keeps the old field), sorted by name. */
export function mergeImages(
  current: KustomizeImage[],
  targets: Record<string, KustomizeImage>,
): MergedImages {
  const byName = new Map<string, KustomizeImage>(Object.entries(targets).map(([k, v]) => [k, { ...v }]))
  for (const img of current) {
    const target = byName.get(img.name)
    if (!target) {
      byName.set(img.name, img)
      continue
    }
    if (target.newName === PRESERVE) target.newName = img.newName
    if (target.newTag === PRESERVE) target.newTag = img.newTag
    if (target.digest === PRESERVE) target.digest = img.digest
  }
  const forMessage = Object.fromEntries(byName)
  const images = [...byName.values()].map((img) => {
    const copy = { ...img }
    if (copy.newName === PRESERVE) delete copy.newName
    if (copy.newTag === PRESERVE) delete copy.newTag
    if (copy.digest === PRESERVE) delete copy.digest
    return copy
  })
  images.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return { images, forMessage }
}

function ordered(img: KustomizeImage): Record<string, string> {
  const out: Record<string, string> = {}
  for (const key of ['name', 'newName', 'tagSuffix', 'newTag', 'digest'] as const) {
    const value = img[key]
    if (value) out[key] = value
  }
  return out
}

/** Kargo's message: "Updated <path> to use new image[s]", a blank line, then `- newName|name[:tag][@digest]` by name. */
export function buildCommitMessage(dir: string, targets: Record<string, KustomizeImage>): string {
  const names = Object.keys(targets).sort()
  if (names.length === 0) return ''
  const lines = names.map((name) => {
    const img = targets[name] ?? { name }
    let ref = img.newName || img.name
    if (img.newTag) ref += `:${img.newTag}`
    if (img.digest) ref += `@${img.digest}`
    return `\n- ${ref}`
  })
  return `Updated ${dir} to use new image${names.length > 1 ? 's' : ''}\n${lines.join('')}`
}
