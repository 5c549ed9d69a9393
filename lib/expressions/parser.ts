/**
 * Pratt/recursive-descent parser for the expr-lang subset. Precedences, comparison chaining (`a < b < c`), the
 * ternary and elvis forms, `??` not mixing with other operators, predicates (`{…}`, `#`, `.field`) and optional
 * chains follow expr-lang's parser. Input size, nesting depth and node count are bounded.
 */
import { ExpressionSyntaxError } from './errors.js'
import { tokenize, type Token } from './lexer.js'

export type Node =
  | { type: 'nil'; pos: number }
  | { type: 'bool'; value: boolean; pos: number }
  | { type: 'number'; value: number; pos: number }
  | { type: 'string'; value: string; pos: number }
  | { type: 'ident'; name: string; pos: number }
  /** `#` (name ''), `#index`, `#acc` inside a predicate; `.field` is a member of `#`. */
  | { type: 'pointer'; name: string; pos: number }
  | { type: 'array'; items: Node[]; pos: number }
  | { type: 'map'; entries: { key: Node; value: Node }[]; pos: number }
  | { type: 'member'; object: Node; property: Node; optional: boolean; pos: number }
  /** The end of an optional chain: a `?.` on a nil value inside `node` makes the whole chain nil. */
  | { type: 'chain'; node: Node; pos: number }
  | { type: 'slice'; object: Node; from: Node | null; to: Node | null; pos: number }
  /** A call of an environment function, a builtin, or a method (`callee` is then a member). */
  | { type: 'call'; callee: Node; args: Node[]; pos: number }
  /** A builtin that takes a predicate (`filter`, `map`, `all`, …). */
  | { type: 'predicateCall'; name: string; args: Node[]; pos: number }
  | { type: 'predicate'; body: Node; pos: number }
  | { type: 'unary'; op: string; operand: Node; pos: number }
  | { type: 'binary'; op: string; left: Node; right: Node; pos: number }
  | { type: 'conditional'; cond: Node; then: Node; otherwise: Node; pos: number }
  | { type: 'let'; name: string; value: Node; body: Node; pos: number }
  | { type: 'sequence'; nodes: Node[]; pos: number }

/** Longest accepted expression, in characters. */
export const MAX_EXPRESSION_LENGTH = 10_000
/** Deepest accepted nesting of sub-expressions. */
export const MAX_NESTING_DEPTH = 100
/** Most AST nodes one expression may have (expr-lang's default). */
export const MAX_NODES = 10_000

const UNARY: Record<string, number> = nullProto({ not: 50, '!': 50, '-': 90, '+': 90 })
const BINARY: Record<string, { prec: number; right?: true }> = nullProto({
  '|': { prec: 0 },
  or: { prec: 10 },
  '||': { prec: 10 },
  and: { prec: 15 },
  '&&': { prec: 15 },
  '==': { prec: 20 },
  '!=': { prec: 20 },
  '<': { prec: 20 },
  '>': { prec: 20 },
  '>=': { prec: 20 },
  '<=': { prec: 20 },
  in: { prec: 20 },
  matches: { prec: 20 },
  contains: { prec: 20 },
  startsWith: { prec: 20 },
  endsWith: { prec: 20 },
  '..': { prec: 25 },
  '+': { prec: 30 },
  '-': { prec: 30 },
  '*': { prec: 60 },
  '/': { prec: 60 },
  '%': { prec: 60 },
  '**': { prec: 100, right: true },
  '^': { prec: 100, right: true },
  '??': { prec: 500 },
})
/** A lookup table without a prototype, so a name like `constructor` is simply absent. */
function nullProto<T>(entries: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, entries)
}

const COMPARISON = new Set(['<', '>', '<=', '>='])
const NEGATABLE = new Set(['contains', 'matches', 'startsWith', 'endsWith', 'in'])

/** Builtins whose arguments include a predicate: `e` is a plain argument, `p` a predicate, `?` marks optional. */
export const PREDICATE_BUILTINS: Record<string, string[]> = nullProto({
  all: ['e', 'p'],
  none: ['e', 'p'],
  any: ['e', 'p'],
  one: ['e', 'p'],
  filter: ['e', 'p'],
  map: ['e', 'p'],
  count: ['e', 'p?'],
  sum: ['e', 'p?'],
  find: ['e', 'p'],
  findIndex: ['e', 'p'],
  findLast: ['e', 'p'],
  findLastIndex: ['e', 'p'],
  groupBy: ['e', 'p'],
  sortBy: ['e', 'p', 'e?'],
  reduce: ['e', 'p', 'e?'],
})

const IDENTIFIER = /^[\p{L}_$][\p{L}\p{Nd}_$]*$/u

/** Parses an expression into an AST. Throws `ExpressionSyntaxError` (with the offset of the offending token). */
export function parse(source: string): Node {
  if (source.length > MAX_EXPRESSION_LENGTH) {
    throw new ExpressionSyntaxError(`expression is longer than ${MAX_EXPRESSION_LENGTH} characters`, 0)
  }
  const p = new ParserState(tokenize(source))
  const node = p.parseSequence()
  if (p.current.kind !== 'eof') p.fail(`unexpected token ${describe(p.current)}`)
  checkTreeDepth(node)
  return node
}

/** Deepest accepted AST (long operator chains such as `a + b + c …` nest to the left). */
export const MAX_TREE_DEPTH = 500

/** The direct children of a node. */
export function childrenOf(n: Node): Node[] {
  switch (n.type) {
    case 'array':
      return n.items
    case 'map':
      return n.entries.flatMap((e) => [e.key, e.value])
    case 'member':
      return [n.object, n.property]
    case 'chain':
      return [n.node]
    case 'slice':
      return [n.object, ...(n.from ? [n.from] : []), ...(n.to ? [n.to] : [])]
    case 'call':
      return [n.callee, ...n.args]
    case 'predicateCall':
      return n.args
    case 'predicate':
      return [n.body]
    case 'unary':
      return [n.operand]
    case 'binary':
      return [n.left, n.right]
    case 'conditional':
      return [n.cond, n.then, n.otherwise]
    case 'let':
      return [n.value, n.body]
    case 'sequence':
      return n.nodes
    default:
      return []
  }
}

function checkTreeDepth(root: Node): void {
  const stack: [Node, number][] = [[root, 1]]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [n, d] = item
    if (d > MAX_TREE_DEPTH) throw new ExpressionSyntaxError('expression is nested too deeply', n.pos)
    for (const c of childrenOf(n)) stack.push([c, d + 1])
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'end of expression'
  if (t.kind === 'string') return 'string literal'
  return JSON.stringify(t.value)
}

class ParserState {
  private index = 0
  private depth = 0
  private predicateDepth = 0
  private nodes = 0

  constructor(private readonly tokens: Token[]) {}

  get current(): Token {
    return (
      this.tokens[this.index] ?? this.tokens[this.tokens.length - 1] ?? { kind: 'eof', value: '', pos: 0 }
    )
  }

  private peek(offset = 1): Token {
    return this.tokens[this.index + offset] ?? { kind: 'eof', value: '', pos: this.current.pos }
  }

  fail(message: string, at: Token = this.current): never {
    throw new ExpressionSyntaxError(message, at.pos)
  }

  private next(): Token {
    const t = this.current
    if (this.index < this.tokens.length - 1) this.index++
    return t
  }

  private is(kind: Token['kind'], value?: string): boolean {
    return this.current.kind === kind && (value === undefined || this.current.value === value)
  }

  private expect(kind: Token['kind'], value?: string): Token {
    if (!this.is(kind, value)) {
      if (this.current.kind === 'eof') this.fail('unexpected end of expression')
      this.fail(
        `unexpected token ${describe(this.current)}${value ? `, expected ${JSON.stringify(value)}` : ''}`,
      )
    }
    return this.next()
  }

  private node<T extends Node>(n: T): T {
    if (++this.nodes > MAX_NODES) this.fail('expression has too many nodes')
    return n
  }

  private enter(): void {
    if (++this.depth > MAX_NESTING_DEPTH) this.fail('expression is nested too deeply')
  }

  private leave(): void {
    this.depth--
  }

  parseSequence(): Node {
    const first = this.parseExpression(0)
    const nodes = [first]
    while (this.is('op', ';')) {
      this.next()
      if (this.is('eof')) break
      nodes.push(this.parseExpression(0))
    }
    return nodes.length === 1 ? first : this.node({ type: 'sequence', nodes, pos: first.pos })
  }

  parseExpression(precedence: number): Node {
    this.enter()
    try {
      return this.parseExpressionInner(precedence)
    } finally {
      this.leave()
    }
  }

  private parseExpressionInner(precedence: number): Node {
    if (precedence === 0 && this.is('op', 'let')) return this.parseLet()
    if (precedence === 0 && this.is('op', 'if')) return this.parseIf()

    let left = this.parsePrimary()
    let prevOperator = ''
    for (;;) {
      let opToken = this.current
      if (opToken.kind !== 'op') break
      let negate = false
      if (opToken.value === 'not') {
        const after = this.peek()
        if (!(after.kind === 'op' && NEGATABLE.has(after.value))) {
          this.next()
          this.fail(`unexpected token ${describe(this.current)}`)
        }
        if ((BINARY[after.value]?.prec ?? -1) < precedence) break
        this.next()
        negate = true
        opToken = this.current
      }
      const info = BINARY[opToken.value]
      if (info === undefined || info.prec < precedence) break
      this.next()
      if (opToken.value === '|') {
        const name = this.expect('ident')
        left = this.parseCall(name, [left])
        prevOperator = '|'
        continue
      }
      if (prevOperator === '??' && opToken.value !== '??') {
        this.fail(
          `operator ${JSON.stringify(opToken.value)} and coalesce expressions (??) cannot be mixed; wrap either in parentheses`,
          opToken,
        )
      }
      if (COMPARISON.has(opToken.value)) {
        left = this.parseComparison(left, opToken, info.prec)
        prevOperator = opToken.value
        continue
      }
      const right = this.parseExpression(info.right ? info.prec : info.prec + 1)
      left = this.node({ type: 'binary', op: normalizeOp(opToken.value), left, right, pos: opToken.pos })
      if (negate) left = this.node({ type: 'unary', op: '!', operand: left, pos: opToken.pos })
      prevOperator = opToken.value
    }
    if (precedence === 0) left = this.parseConditional(left)
    return left
  }

  private parseComparison(first: Node, firstOp: Token, prec: number): Node {
    let root: Node | null = null
    let left = first
    let op = firstOp
    for (;;) {
      const right = this.parseExpression(prec + 1)
      const cmp = this.node<Node>({ type: 'binary', op: op.value, left, right, pos: op.pos })
      root =
        root === null ? cmp : this.node({ type: 'binary', op: '&&', left: root, right: cmp, pos: op.pos })
      left = right
      if (!(this.current.kind === 'op' && COMPARISON.has(this.current.value))) break
      op = this.next()
    }
    return root
  }

  private parseConditional(cond: Node): Node {
    let node = cond
    while (this.is('op', '?')) {
      const q = this.next()
      let then: Node
      let otherwise: Node
      if (this.is('op', ':')) {
        this.next()
        then = node
        otherwise = this.parseExpression(0)
      } else {
        then = this.parseExpression(0)
        this.expect('op', ':')
        otherwise = this.parseExpression(0)
      }
      node = this.node({ type: 'conditional', cond: node, then, otherwise, pos: q.pos })
    }
    return node
  }

  private parseLet(): Node {
    const letTok = this.expect('op', 'let')
    const name = this.expect('ident')
    this.expect('op', '=')
    const value = this.parseExpression(0)
    this.expect('op', ';')
    const body = this.parseSequence()
    return this.node({ type: 'let', name: name.value, value, body, pos: letTok.pos })
  }

  private parseIf(): Node {
    const ifTok = this.next()
    const cond = this.parseExpression(0)
    this.expect('bracket', '{')
    const then = this.parseSequence()
    this.expect('bracket', '}')
    this.expect('op', 'else')
    let otherwise: Node
    if (this.is('op', 'if')) {
      this.enter()
      try {
        otherwise = this.parseIf()
      } finally {
        this.leave()
      }
    } else {
      this.expect('bracket', '{')
      otherwise = this.parseSequence()
      this.expect('bracket', '}')
    }
    return this.node({ type: 'conditional', cond, then, otherwise, pos: ifTok.pos })
  }

  private parsePrimary(): Node {
    const token = this.current
    if (token.kind === 'op' && UNARY[token.value] !== undefined) {
      this.next()
      const operand = this.parseExpression(UNARY[token.value] ?? 0)
      const op = token.value === 'not' ? '!' : token.value
      return this.parsePostfix(this.node({ type: 'unary', op, operand, pos: token.pos }))
    }
    if (token.kind === 'bracket' && token.value === '(') {
      this.next()
      this.enter()
      let inner: Node
      try {
        inner = this.parseSequence()
      } finally {
        this.leave()
      }
      this.expect('bracket', ')')
      return this.parsePostfix(inner)
    }
    if (this.predicateDepth > 0 && token.kind === 'op' && (token.value === '#' || token.value === '.')) {
      let name = ''
      if (token.value === '#') {
        this.next()
        if (this.is('ident')) {
          const id = this.next()
          if (id.value !== 'index' && id.value !== 'acc') this.fail(`unknown pointer #${id.value}`, id)
          name = id.value
        }
      }
      return this.parsePostfix(this.node({ type: 'pointer', name, pos: token.pos }))
    }
    return this.parseSecondary()
  }

  private parseSecondary(): Node {
    const token = this.current
    let node: Node
    switch (token.kind) {
      case 'ident': {
        this.next()
        if (token.value === 'true' || token.value === 'false') {
          return this.node({ type: 'bool', value: token.value === 'true', pos: token.pos })
        }
        if (token.value === 'nil') return this.node({ type: 'nil', pos: token.pos })
        node = this.is('bracket', '(')
          ? this.parseCall(token, [])
          : this.node({ type: 'ident', name: token.value, pos: token.pos })
        break
      }
      case 'number':
        this.next()
        return this.node({ type: 'number', value: this.numberValue(token), pos: token.pos })
      case 'string':
        this.next()
        node = this.node({ type: 'string', value: token.value, pos: token.pos })
        break
      case 'bracket':
        if (token.value === '[') node = this.parseArray()
        else if (token.value === '{') node = this.parseMap()
        else this.fail(`unexpected token ${describe(token)}`)
        break
      case 'eof':
        this.fail('unexpected end of expression')
      // falls through (fail never returns)
      default:
        this.fail(`unexpected token ${describe(token)}`)
    }
    return this.parsePostfix(node)
  }

  private numberValue(token: Token): number {
    const text = token.value.replace(/_/g, '')
    const lower = text.toLowerCase()
    const asInt = (digits: string, radix: number): number => {
      if (!/^[0-9a-f]+$/.test(digits)) this.fail(`invalid integer literal: ${token.value}`, token)
      let big = 0n
      for (const c of digits) {
        const d = parseInt(c, radix)
        if (Number.isNaN(d)) this.fail(`invalid integer literal: ${token.value}`, token)
        big = big * BigInt(radix) + BigInt(d)
      }
      if (big > 9223372036854775807n) this.fail('integer literal is too large', token)
      return Number(big)
    }
    if (lower.startsWith('0x')) return asInt(lower.slice(2), 16)
    if (lower.includes('.') || lower.includes('e')) {
      if (!/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?$/.test(lower))
        this.fail(`invalid float literal: ${token.value}`, token)
      const f = Number(lower)
      if (!Number.isFinite(f)) this.fail('float literal is too large', token)
      return f
    }
    if (lower.startsWith('0b')) return asInt(lower.slice(2), 2)
    if (lower.startsWith('0o')) return asInt(lower.slice(2), 8)
    return asInt(lower, 10)
  }

  private parseCall(name: Token, pre: Node[]): Node {
    const spec = PREDICATE_BUILTINS[name.value]
    if (spec !== undefined) {
      this.expect('bracket', '(')
      const args = [...pre]
      const rest = spec.slice(pre.length)
      for (let i = 0; i < rest.length; i++) {
        const kind = rest[i] ?? 'e'
        if (kind.endsWith('?')) {
          if (this.is('bracket', ')')) break
        } else if (this.is('bracket', ')')) {
          this.fail(
            `${name.value}() expects at least ${spec.filter((k) => !k.endsWith('?')).length} arguments`,
          )
        }
        if (i > 0) this.expect('op', ',')
        args.push(kind.startsWith('p') ? this.parsePredicate() : this.parseExpression(0))
      }
      if (this.is('op', ',')) this.next()
      this.expect('bracket', ')')
      return this.node({ type: 'predicateCall', name: name.value, args, pos: name.pos })
    }
    const callee = this.node<Node>({ type: 'ident', name: name.value, pos: name.pos })
    return this.node({ type: 'call', callee, args: this.parseArguments(pre), pos: name.pos })
  }

  private parseArguments(pre: Node[]): Node[] {
    const args = [...pre]
    this.expect('bracket', '(')
    while (!this.is('bracket', ')')) {
      if (args.length > pre.length) {
        this.expect('op', ',')
        if (this.is('bracket', ')')) break
      }
      args.push(this.parseExpression(0))
    }
    this.expect('bracket', ')')
    return args
  }

  private parsePredicate(): Node {
    const start = this.current
    const braces = this.is('bracket', '{')
    if (braces) this.next()
    this.predicateDepth++
    let body: Node
    try {
      if (braces) body = this.parseSequence()
      else {
        body = this.parseExpression(0)
        if (this.is('op', ';')) this.fail('wrap predicate with brackets { and }')
      }
    } finally {
      this.predicateDepth--
    }
    if (braces) this.expect('bracket', '}')
    return this.node({ type: 'predicate', body, pos: start.pos })
  }

  private parseArray(): Node {
    const open = this.expect('bracket', '[')
    const items: Node[] = []
    while (!this.is('bracket', ']')) {
      if (items.length > 0) {
        this.expect('op', ',')
        if (this.is('bracket', ']')) break
      }
      items.push(this.parseExpression(0))
    }
    this.expect('bracket', ']')
    return this.node({ type: 'array', items, pos: open.pos })
  }

  private parseMap(): Node {
    const open = this.expect('bracket', '{')
    const entries: { key: Node; value: Node }[] = []
    while (!this.is('bracket', '}')) {
      if (entries.length > 0) {
        this.expect('op', ',')
        if (this.is('bracket', '}')) break
      }
      let key: Node
      const t = this.current
      if (t.kind === 'number' || t.kind === 'string' || t.kind === 'ident') {
        this.next()
        key = this.node({ type: 'string', value: t.value, pos: t.pos })
      } else if (t.kind === 'bracket' && t.value === '(') {
        key = this.parseExpression(0)
      } else {
        this.fail(
          `a map key must be a quoted string, a number, an identifier, or an expression in parentheses (unexpected token ${describe(t)})`,
        )
      }
      this.expect('op', ':')
      entries.push({ key, value: this.parseExpression(0) })
    }
    this.expect('bracket', '}')
    return this.node({ type: 'map', entries, pos: open.pos })
  }

  private parsePostfix(start: Node): Node {
    let node = start
    for (;;) {
      const t = this.current
      if (t.kind === 'op' && (t.value === '.' || t.value === '?.')) {
        const optional = t.value === '?.'
        this.next()
        if (optional && this.is('bracket', '[')) {
          node = this.parseIndex(node, true)
          continue
        }
        const prop = this.next()
        if (!(prop.kind === 'ident' || (prop.kind === 'op' && IDENTIFIER.test(prop.value))))
          this.fail('expected name', prop)
        const isChain = node.type === 'chain'
        const base = node.type === 'chain' ? node.node : node
        const property = this.node<Node>({ type: 'string', value: prop.value, pos: prop.pos })
        const member = this.node<Node>({ type: 'member', object: base, property, optional, pos: prop.pos })
        let next: Node = member
        if (this.is('bracket', '(')) {
          this.enter()
          try {
            next = this.node({ type: 'call', callee: member, args: this.parseArguments([]), pos: prop.pos })
          } finally {
            this.leave()
          }
        }
        node = isChain || optional ? this.node({ type: 'chain', node: next, pos: prop.pos }) : next
        continue
      }
      if (t.kind === 'bracket' && t.value === '[') {
        node = this.parseIndex(node, false)
        continue
      }
      return node
    }
  }

  private parseIndex(object: Node, optional: boolean): Node {
    const open = this.expect('bracket', '[')
    this.enter()
    try {
      if (this.is('op', ':')) {
        this.next()
        const to = this.is('bracket', ']') ? null : this.parseExpression(0)
        this.expect('bracket', ']')
        return this.node({ type: 'slice', object, from: null, to, pos: open.pos })
      }
      const from = this.parseExpression(0)
      if (this.is('op', ':')) {
        this.next()
        const to = this.is('bracket', ']') ? null : this.parseExpression(0)
        this.expect('bracket', ']')
        return this.node({ type: 'slice', object, from, to, pos: open.pos })
      }
      this.expect('bracket', ']')
      const member = this.node<Node>({ type: 'member', object, property: from, optional, pos: open.pos })
      return optional ? this.node({ type: 'chain', node: member, pos: open.pos }) : member
    } finally {
      this.leave()
    }
  }
}

function normalizeOp(op: string): string {
  switch (op) {
    case 'and':
      return '&&'
    case 'or':
      return '||'
    case '^':
      return '**'
    default:
      return op
  }
}
