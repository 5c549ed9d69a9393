export {
  compareVersions,
  comparePrerelease,
  formatVersion,
  parseLooseVersion,
  parseStrictVersion,
  parseUint64,
  parseVersion,
  type ParseVersionOptions,
  type Version,
} from './version.js'
export { isValidConstraint, parseConstraint, type Constraint } from './constraint.js'
export {
  compareVersionsDesc,
  selectSemver,
  sortByVersionDesc,
  sortLexicalDesc,
  sortNewestBuildDesc,
  type SelectSemverOptions,
} from './sort.js'
export { semverDiff, semverParse, type SemverDifference, type SemverParts } from './diff.js'
