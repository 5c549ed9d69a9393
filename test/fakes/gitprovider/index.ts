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
export { GITHUB_FAKE_USER } from './github-git.js'
