import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild'

/** The repository root (this file lives in `infra/`). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

/** Handlers serverless.yml deploys. `deliver` joins them once `functions/deliver.ts` exists. */
export const requiredFunctions = ['api', 'discover', 'promote', 'reconcile'] as const
export const optionalFunctions = ['deliver'] as const

/** Per-bundle budget from ARCHITECTURE.md, applied to the code loaded at cold start (bench/bundles.ts reports). */
export const BUNDLE_BUDGET_BYTES = 1.5 * 1024 * 1024

export interface BuildFunctionsOptions {
  /** Folder holding `<name>.ts` handlers (default `functions/`). */
  functionsDir?: string
  /** Output root; each handler lands in `<outDir>/<name>/index.mjs` (default `.build/`). */
  outDir?: string
  /** Only these handlers (default: every required one, plus optional ones that exist). */
  only?: string[]
  /** Print one line per bundle (default true). */
  log?: boolean
}

export interface BuiltFunction {
  name: string
  file: string
  /** index.mjs and the chunks it imports statically: what Lambda loads at cold start. */
  bytes: number
  /** Everything shipped: those plus the chunks behind dynamic imports. */
  totalBytes: number
  /** The largest inputs, for finding what bloats a bundle. */
  largestInputs: Array<{ path: string; bytes: number }>
}

// Aliased so the banner can never collide with a `createRequire` the bundle itself imports.
const BANNER =
  "import { createRequire as __tugboatCreateRequire } from 'node:module';const require = __tugboatCreateRequire(import.meta.url);"

const LOCAL_REQUIRE = /^\s*const require = createRequire\(import\.meta\.url\);?[ \t]*$/m

/**
 * Our own modules load JSON with `const require = createRequire(import.meta.url)` so they run unbundled under
 * node/tsx. esbuild leaves calls to a *local* `require` alone, so a bundle would look for `./schemas/*.json` next
 * to `index.mjs` at run time and fail. Dropping that one declaration makes them calls to the module-level
 * `require`, which esbuild bundles, template-literal ones (`./schemas/${kind}-config.json`) included as a glob.
 */
export function bundleLocalRequires(root: string = repoRoot): Plugin {
  const ours = new RegExp(`^${escapeRegExp(root)}[\\\\/](lib|functions)[\\\\/].*\\.ts$`)
  return {
    name: 'bundle-local-requires',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (!ours.test(args.path)) return undefined
        const source = await fs.promises.readFile(args.path, 'utf8')
        if (!source.includes('createRequire(import.meta.url)')) return undefined
        if (!LOCAL_REQUIRE.test(source)) {
          return {
            errors: [
              {
                text:
                  'createRequire(import.meta.url) is used in a form infra/build.ts does not rewrite; write it as ' +
                  '`const require = createRequire(import.meta.url)` on its own line so JSON requires get bundled',
              },
            ],
          }
        }
        return {
          contents: source.replace(LOCAL_REQUIRE, ''),
          loader: 'ts',
          resolveDir: path.dirname(args.path),
        }
      })
    },
  }
}

/**
 * zod v4 re-exports every locale as `z.locales`; esbuild keeps that whole namespace (≈250 kB minified) because
 * `zod` re-exports `z` itself. Tugboat only uses the default English messages (which zod installs at import), so
 * the locales index is replaced by one that exports `en` alone. `z.locales.<other>()` would be undefined.
 */
export function zodEnglishOnly(): Plugin {
  return {
    name: 'zod-english-only',
    setup(b) {
      b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
        if (!/[\\/]node_modules[\\/]zod[\\/]v4[\\/](classic|core)[\\/]/.test(args.importer)) return undefined
        return { path: path.resolve(args.resolveDir, '../locales/index.js'), namespace: 'zod-locales' }
      })
      b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
        contents: `export { default as en } from ${JSON.stringify(path.join(path.dirname(args.path), 'en.js'))}`,
        resolveDir: path.dirname(args.path),
        loader: 'js',
      }))
    },
  }
}

/**
 * The esbuild options for one handler: node20 ESM, minified, everything (AWS SDK v3 included) bundled, written to
 * `<outdir>/index.mjs`. Code reached only through `await import()` (the SDK's SSO/ini/web-identity credential
 * providers, event streams, …) is split into `<outdir>/chunks/`, loaded only if ever used, so it costs no cold
 * start: on Lambda credentials come from the environment.
 */
export function bundleOptions(entry: string, outdir: string, root: string = repoRoot): BuildOptions {
  return {
    entryPoints: { index: entry },
    outdir,
    outExtension: { '.js': '.mjs' },
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    absWorkingDir: root,
    nodePaths: [path.join(root, 'node_modules')],
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // The SDK's ES module builds tree-shake far better than its CommonJS ones.
    mainFields: ['module', 'main'],
    minify: true,
    treeShaking: true,
    // Maps stay in .build/ for decoding stack traces offline; they are not shipped (see docs/deployment.md).
    // metafile.json beside each bundle feeds https://esbuild.github.io/analyze/.
    sourcemap: 'external',
    sourcesContent: false,
    legalComments: 'external',
    banner: { js: BANNER },
    metafile: true,
    logLevel: 'warning',
    plugins: [bundleLocalRequires(root), zodEnglishOnly()],
  }
}

/** Which handlers to build: every required one (missing is an error) and optional ones that exist. */
export function handlersToBuild(
  functionsDir: string,
  only?: string[],
): Array<{ name: string; entry: string }> {
  const entry = (name: string) => path.join(functionsDir, `${name}.ts`)
  const wanted = only ?? [...requiredFunctions, ...optionalFunctions.filter((n) => fs.existsSync(entry(n)))]
  const missing = wanted.filter((n) => !fs.existsSync(entry(n)))
  if (missing.length > 0) {
    throw new Error(
      `cannot build: ${missing.map((n) => path.relative(repoRoot, entry(n))).join(', ')} missing`,
    )
  }
  return wanted.map((name) => ({ name, entry: entry(name) }))
}

function largestInputs(metafile: Metafile, count = 8): BuiltFunction['largestInputs'] {
  const bytes = new Map<string, number>()
  for (const output of Object.values(metafile.outputs)) {
    if (!output.entryPoint) continue
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs))
      bytes.set(input, (bytes.get(input) ?? 0) + bytesInOutput)
  }
  return [...bytes]
    .map(([p, b]) => ({ path: p, bytes: b }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, count)
}

/**
 * Sizes of a bundle folder, from the metafile.json build writes beside it: `coldStartBytes` is index.mjs plus the
 * chunks it imports statically (all loaded at cold start); `totalBytes` adds the chunks behind dynamic imports.
 */
export function bundleSizes(
  dir: string,
  root: string = repoRoot,
): { coldStartBytes: number; totalBytes: number } {
  const metafile = JSON.parse(fs.readFileSync(path.join(dir, 'metafile.json'), 'utf8')) as Metafile
  const outputs = new Map(
    Object.entries(metafile.outputs)
      .filter(([file]) => file.endsWith('.mjs'))
      .map(([file, output]) => [path.resolve(root, file), output]),
  )
  const entry = path.join(dir, 'index.mjs')
  const loaded = new Set<string>()
  const visit = (file: string) => {
    if (loaded.has(file) || !outputs.has(file)) return
    loaded.add(file)
    for (const i of outputs.get(file)!.imports)
      if (i.kind === 'import-statement' && !i.external) visit(path.resolve(root, i.path))
  }
  visit(entry)
  const sum = (files: Iterable<string>) => [...files].reduce((n, f) => n + (outputs.get(f)?.bytes ?? 0), 0)
  return { coldStartBytes: sum(loaded), totalBytes: sum(outputs.keys()) }
}

/** Bundles each handler into `<outDir>/<name>/` (replacing the folder), returning sizes. */
export async function buildFunctions(options: BuildFunctionsOptions = {}): Promise<BuiltFunction[]> {
  const functionsDir = path.resolve(repoRoot, options.functionsDir ?? 'functions')
  const outDir = path.resolve(repoRoot, options.outDir ?? '.build')
  const handlers = handlersToBuild(functionsDir, options.only)
  return Promise.all(
    handlers.map(async ({ name, entry }) => {
      const dir = path.join(outDir, name)
      await fs.promises.rm(dir, { recursive: true, force: true })
      const result = await build(bundleOptions(entry, dir))
      await fs.promises.writeFile(path.join(dir, 'metafile.json'), JSON.stringify(result.metafile))
      const { coldStartBytes, totalBytes } = bundleSizes(dir)
      const file = path.join(dir, 'index.mjs')
      const built: BuiltFunction = {
        name,
        file,
        bytes: coldStartBytes,
        totalBytes,
        largestInputs: largestInputs(result.metafile!),
      }
      if (options.log ?? true) {
        const over =
          coldStartBytes > BUNDLE_BUDGET_BYTES ? `  OVER BUDGET (${formatBytes(BUNDLE_BUDGET_BYTES)})` : ''
        console.log(
          `${name.padEnd(10)} ${formatBytes(coldStartBytes).padStart(9)} at cold start, ${formatBytes(totalBytes).padStart(9)} with lazy chunks  ` +
            `${path.relative(repoRoot, file)}${over}`,
        )
      }
      return built
    }),
  )
}

/** "1.23 MB" / "456.7 kB" (powers of 1024). */
export function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(2)} MB` : `${(bytes / 1024).toFixed(1)} kB`
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}

function parseArgs(argv: string[]): BuildFunctionsOptions & { verbose: boolean } {
  const options: BuildFunctionsOptions & { verbose: boolean } = { verbose: false }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const value = () => {
      const next = argv[++i]
      if (!next) throw new Error(`${arg} needs a value`)
      return next
    }
    if (arg === '--functions-dir') options.functionsDir = value()
    else if (arg === '--out-dir') options.outDir = value()
    else if (arg === '--only') options.only = value().split(',').filter(Boolean)
    else if (arg === '--verbose') options.verbose = true
    else
      throw new Error(
        `unknown argument ${arg}; usage: tsx infra/build.ts [--only api,promote] [--out-dir .build] [--functions-dir functions] [--verbose]`,
      )
  }
  return options
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const options = parseArgs(process.argv.slice(2))
    const built = await buildFunctions(options)
    if (options.verbose) {
      for (const fn of built) {
        console.log(`\n${fn.name}: largest inputs`)
        for (const input of fn.largestInputs)
          console.log(`  ${formatBytes(input.bytes).padStart(9)}  ${input.path}`)
      }
    }
    const over = built.filter((fn) => fn.bytes > BUNDLE_BUDGET_BYTES)
    if (over.length > 0)
      console.warn(
        `warning: over the ${formatBytes(BUNDLE_BUDGET_BYTES)} budget: ${over.map((f) => f.name).join(', ')}`,
      )
  } catch (error) {
    console.error((error as Error).message)
    process.exitCode = 1
  }
}
