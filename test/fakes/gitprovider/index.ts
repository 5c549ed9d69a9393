export { startGitHubFake } from './github.js'
export { startGitLabFake } from './gitlab.js'
export { startGiteaFake } from './gitea.js'
export type {
  FakeGitProvider,
  FakeProviderOptions,
  FakePull,
  FakeRepoSeed,
  FakeRequest,
  MergeStyle,
  Readiness,
} from './core.js'
