import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateRawSync } from 'node:zlib'

/**
 * Packages a binary you downloaded (kustomize, helm) into a Lambda layer zip holding `bin/<tool>`, which Lambda
 * extracts to /opt/bin/<tool> (on the functions' PATH). The zip is written here rather than with `zip` so the
 * executable bit is set in the archive on every OS, Windows included. See infra/layers/README.md.
 *
 *   npx tsx infra/layers/build-layer.ts --tool kustomize --binary ./kustomize [--arch x86_64] [--out file.zip]
 */

export type LayerArch = 'x86_64' | 'arm64'
export const LAYER_TOOLS = ['kustomize', 'helm'] as const

/** ELF e_machine values for the two Lambda architectures. */
const ELF_MACHINE: Record<LayerArch, number> = { x86_64: 0x3e, arm64: 0xb7 }

/** Checks the file is a 64-bit little-endian Linux ELF executable for `arch`; throws a one-line reason otherwise. */
export function checkLinuxBinary(data: Buffer, arch: LayerArch): void {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) {
    throw new Error('not a Linux executable (ELF); download the linux build of the tool')
  }
  if (data[4] !== 2 || data[5] !== 1) throw new Error('not a 64-bit little-endian ELF executable')
  const machine = data.readUInt16LE(18)
  if (machine !== ELF_MACHINE[arch]) {
    const found =
      Object.entries(ELF_MACHINE).find(([, m]) => m === machine)?.[0] ?? `machine 0x${machine.toString(16)}`
    throw new Error(
      `built for ${found}, but the functions run on ${arch} (download the linux_${arch === 'x86_64' ? 'amd64' : 'arm64'} build)`,
    )
  }
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})

function crc32(data: Buffer): number {
  let c = 0xffffffff
  for (const byte of data) c = CRC_TABLE[(c ^ byte) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

interface ZipEntry {
  name: string
  data?: Buffer // absent for a directory
  mode: number
}

/** A deflated zip with Unix modes in the external attributes (what Lambda applies when it extracts a layer). */
export function zip(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  // 1980-01-01 00:00: fixed timestamps make the zip reproducible, so an unchanged binary gives the same layer.
  const dosTime = 0
  const dosDate = (0 << 9) | (1 << 5) | 1
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8')
    const raw = entry.data ?? Buffer.alloc(0)
    const body = entry.data ? deflateRawSync(raw, { level: 9 }) : raw
    const method = entry.data ? 8 : 0
    const crc = crc32(raw)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(20, 4)
    local.writeUInt16LE(0x0800, 6) // UTF-8 names
    local.writeUInt16LE(method, 8)
    local.writeUInt16LE(dosTime, 10)
    local.writeUInt16LE(dosDate, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(body.length, 18)
    local.writeUInt32LE(raw.length, 22)
    local.writeUInt16LE(name.length, 26)
    locals.push(local, name, body)
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE((3 << 8) | 20, 4) // made by Unix, so the external attributes carry the mode
    central.writeUInt16LE(20, 6)
    central.writeUInt16LE(0x0800, 8)
    central.writeUInt16LE(method, 10)
    central.writeUInt16LE(dosTime, 12)
    central.writeUInt16LE(dosDate, 14)
    central.writeUInt32LE(crc, 16)
    central.writeUInt32LE(body.length, 20)
    central.writeUInt32LE(raw.length, 24)
    central.writeUInt16LE(name.length, 28)
    central.writeUInt32LE(
      ((entry.data ? 0o100000 : 0o040000) | entry.mode) * 0x10000 + (entry.data ? 0 : 0x10),
      38,
    )
    central.writeUInt32LE(offset, 42)
    centrals.push(central, name)
    offset += local.length + name.length + body.length
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(centralSize, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, ...centrals, end])
}

/** Builds the layer zip for one tool: `bin/` (0755) and `bin/<tool>` (0755). Returns the zip's path. */
export function buildLayer(options: {
  tool: string
  binary: string
  arch?: LayerArch
  out?: string
}): string {
  const arch = options.arch ?? 'x86_64'
  if (!/^[a-z0-9][a-z0-9-]*$/.test(options.tool))
    throw new Error(`"${options.tool}" is not a plain tool name`)
  const data = fs.readFileSync(options.binary)
  checkLinuxBinary(data, arch)
  const out = path.resolve(options.out ?? path.join('.build', 'layers', `${options.tool}-${arch}.zip`))
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(
    out,
    zip([
      { name: 'bin/', mode: 0o755 },
      { name: `bin/${options.tool}`, data, mode: 0o755 },
    ]),
  )
  return out
}

function parseArgs(argv: string[]): { tool: string; binary: string; arch: LayerArch; out?: string } {
  const values = new Map<string, string>()
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i]!
    if (!['--tool', '--binary', '--arch', '--out'].includes(key) || argv[i + 1] === undefined) {
      throw new Error(
        'usage: tsx infra/layers/build-layer.ts --tool kustomize|helm --binary <path> [--arch x86_64|arm64] [--out <zip>]',
      )
    }
    values.set(key, argv[i + 1]!)
  }
  const tool = values.get('--tool')
  const binary = values.get('--binary')
  const arch = values.get('--arch') ?? 'x86_64'
  if (!tool || !binary) throw new Error('--tool and --binary are required')
  if (arch !== 'x86_64' && arch !== 'arm64')
    throw new Error('--arch is x86_64 or arm64 (serverless.yml uses x86_64)')
  if (!(LAYER_TOOLS as readonly string[]).includes(tool))
    console.warn(`note: Tugboat looks for ${LAYER_TOOLS.join(' and ')}; "${tool}" is packaged anyway`)
  return { tool, binary, arch, ...(values.get('--out') ? { out: values.get('--out')! } : {}) }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const args = parseArgs(process.argv.slice(2))
    const out = buildLayer(args)
    const relative = path.relative(process.cwd(), out)
    console.log(
      `wrote ${relative} (${(fs.statSync(out).size / 1024 / 1024).toFixed(1)} MB): bin/${args.tool} → /opt/bin/${args.tool}`,
    )
    console.log('publish it, then deploy with the printed ARN:')
    console.log(
      `  aws lambda publish-layer-version --layer-name tugboat-${args.tool} --zip-file fileb://${relative} \\\n` +
        `    --compatible-architectures ${args.arch} --compatible-runtimes nodejs20.x --query LayerVersionArn --output text`,
    )
    console.log(`  npx serverless deploy --stage <stage> --param="${args.tool}LayerArn=<LayerVersionArn>"`)
  } catch (error) {
    console.error((error as Error).message)
    process.exitCode = 1
  }
}
