import { ArgoCDClient } from '../argocd/client.js'
import { argoCDClientProviderFromEnv } from '../argocd/provider.js'
import { ValidationError } from '../errors.js'
import { findCredentialOfType } from '../store/credentials.js'
import type { RuntimeContext } from './context.js'

const fromEnv = argoCDClientProviderFromEnv()

/**
 * The Argo CD client for a project: the project's own `argocd` credential (a Secret labelled
 * `kargo.akuity.io/cred-type: argocd` with `server`, `token` and optionally `insecureSkipTLSVerify`) when it has
 * one, else the deployment's ARGOCD_SERVER / ARGOCD_AUTH_TOKEN.
 */
export const argoCDClientFor =
  (ctx: RuntimeContext) =>
  async (project: string): Promise<ArgoCDClient> => {
    const credential = await findCredentialOfType(ctx.db, ctx.sealer, project, 'argocd')
    if (!credential) return fromEnv(project)
    const { server, token, insecureSkipTLSVerify } = credential.data
    if (!server || !token)
      throw new ValidationError(
        `Secret "${credential.name}" (cred-type argocd) needs stringData.server and stringData.token`,
      )
    return new ArgoCDClient({ server, token, insecureSkipTLSVerify: insecureSkipTLSVerify === 'true' })
  }
