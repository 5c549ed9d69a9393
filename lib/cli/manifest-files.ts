import fs from 'node:fs'
import path from 'node:path'

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

/** Reads `-f` sources (files, directories, `-` for stdin) into one multi-document YAML text, in path order. */
export function readManifestSources(sources: string[], recursive: boolean): string {
  const texts: string[] = []
  const visit = (target: string, depth: number) => {
    const stat = fs.statSync(target, { throwIfNoEntry: false })
    if (!stat) throw new Error(`${target}: no such file or directory`)
    if (stat.isDirectory()) {
      if (depth > 0 && !recursive) return
      for (const entry of fs.readdirSync(target).sort()) {
        const child = path.join(target, entry)
        if (fs.statSync(child).isDirectory()) visit(child, depth + 1)
        else if (MANIFEST_EXTENSIONS.has(path.extname(entry))) texts.push(fs.readFileSync(child, 'utf8'))
      }
    } else {
      texts.push(fs.readFileSync(target, 'utf8'))
    }
  }
  for (const source of sources) {
    if (source === '-') texts.push(fs.readFileSync(0, 'utf8'))
    else visit(source, 0)
  }
  if (texts.length === 0) throw new Error(`no .yaml, .yml or .json files in ${sources.join(', ')}`)
  return texts.map((t) => t.replace(/\s+$/, '')).join('\n---\n') + '\n'
}
