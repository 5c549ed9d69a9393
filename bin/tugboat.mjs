#!/usr/bin/env node
// The `tugboat` CLI. Runs the TypeScript sources through tsx so a clone works without a build step.
import { register } from 'tsx/esm/api'

register()
await import('../lib/cli/main.ts')
