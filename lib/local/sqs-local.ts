import type { Server } from 'node:http'
import { createSqsServer } from 'local-aws-sqs'
import { freePort } from './ports.js'

export interface SqsLocal {
  endpoint: string
  stop(): Promise<void>
}

/** Starts the in-process SQS emulator (JSON protocol, FIFO, redrive) on 127.0.0.1. */
export async function startSqsLocal(options: { port?: number } = {}): Promise<SqsLocal> {
  const port = options.port ?? (await freePort())
  const server = (await createSqsServer({
    port,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  })) as unknown as Server
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
