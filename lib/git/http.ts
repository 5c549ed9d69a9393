import http from 'node:http'
import https from 'node:https'
import type { HttpClient } from 'isomorphic-git'
import nodeHttp from 'isomorphic-git/http/node'

export interface GitHttpOptions {
  /** Accept any TLS certificate (the `insecureSkipTLSVerify` of `git-clone`). */
  insecureSkipTLSVerify?: boolean
}

// Keep-alive agents: a clone or push is 2–3 requests to the same host, and reusing the connection saves a TLS
// handshake on each.
const agents = {
  http: new http.Agent({ keepAlive: true }),
  https: new https.Agent({ keepAlive: true }),
  httpsInsecure: new https.Agent({ keepAlive: true, rejectUnauthorized: false }),
}

/** isomorphic-git's Node HTTP client, with keep-alive connections and optional TLS verification skipping. */
export function gitHttpClient(opts: GitHttpOptions = {}): HttpClient {
  return {
    request(request) {
      const agent = request.url.startsWith('https:')
        ? opts.insecureSkipTLSVerify
          ? agents.httpsInsecure
          : agents.https
        : agents.http
      return nodeHttp.request({ ...request, agent })
    },
  }
}
