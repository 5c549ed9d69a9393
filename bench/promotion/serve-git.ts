/**
 * Serves the bare repositories under a folder over git smart HTTP, in a process of its own, and prints its URL.
 * The seed-pipeline bench runs its git server here, as production's server is never inside the promote function:
 * in-process, every `git http-backend` spawn and CGI pipe would run on the same event loop as the steps measured.
 * Run: npx tsx bench/promotion/serve-git.ts <root>
 */
import { startGitServer } from '../../lib/local/git-server.js'

const root = process.argv[2]
if (!root) {
  console.error('usage: serve-git.ts <root>')
  process.exit(2)
}
const server = await startGitServer({ root })
console.log(server.url)
const stop = () => void server.close().finally(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
