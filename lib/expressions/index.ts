export {
  coerceResult,
  compileExpression,
  evaluate,
  evaluateCondition,
  evaluateDeep,
  evaluateTemplate,
  hasExpression,
  MAX_TEMPLATE_LENGTH,
  parseBoolResult,
  requireBoolean,
  type CompiledExpression,
  type EvaluateOptions,
} from './evaluate.js'
export { asJson, asYaml, quote, unsafeQuote } from './kargo-functions.js'
export { goJsonMarshal } from './go-json.js'
export { goYamlMarshal } from './go-yaml.js'
export { MAX_EXPRESSION_LENGTH, MAX_NESTING_DEPTH, MAX_NODES, MAX_TREE_DEPTH } from './parser.js'
export { DEFAULT_MAX_MEMORY, DEFAULT_MAX_STEPS } from './interpreter.js'
