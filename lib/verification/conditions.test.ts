import { describe, expect, it } from 'vitest'
import { evaluateResult } from './conditions.js'

describe('evaluateResult', () => {
  it.each([
    // [result, successCondition, failureCondition, phase]
    [[0.97], 'result[0] >= 0.95', undefined, 'Successful'],
    [[0.5], 'result[0] >= 0.95', undefined, 'Failed'],
    [[0.5], undefined, 'result[0] < 0.95', 'Failed'],
    [[0.97], undefined, 'result[0] < 0.95', 'Successful'],
    [[0.7], 'result[0] >= 0.9', 'result[0] < 0.5', 'Inconclusive'],
    [[0.2], 'result[0] >= 0.9', 'result[0] < 0.5', 'Failed'],
    [[0.95], 'result[0] >= 0.9', 'result[0] < 0.5', 'Successful'],
    [[1], 'true', 'true', 'Failed'], // both true: failure wins
    [42, undefined, undefined, 'Successful'],
    ['ok', 'result == "ok"', undefined, 'Successful'],
    ['ok', "result == 'ok'", undefined, 'Successful'],
    [NaN, 'isNaN(result) || result >= 0.95', undefined, 'Successful'],
    [NaN, 'result >= 0.95', 'result < 0.95', 'Inconclusive'],
    [NaN, 'result >= 0.95', undefined, 'Failed'],
    [Infinity, 'result >= 0.95', undefined, 'Successful'],
    [Infinity, undefined, 'isInf(result)', 'Failed'],
    [[], 'len(result) == 0 || result[0] >= 0.95', undefined, 'Successful'],
    [[], 'len(result) > 0 && result[0] >= 0.95', undefined, 'Failed'],
    [null, 'default(result, 0) < 0.05', undefined, 'Successful'],
    [0.5, 'default(result, 0) < 0.05', undefined, 'Failed'],
    [null, 'isNil(result)', undefined, 'Successful'],
    ['12', 'asInt(result) > 10', undefined, 'Successful'],
    [12.9, 'asInt(result) == 12', undefined, 'Successful'],
    ['0.97', 'asFloat(result) >= 0.95', undefined, 'Successful'],
    [
      { ok: true, successPercent: 0.95 },
      'result.ok && result.successPercent >= 0.90',
      undefined,
      'Successful',
    ],
  ])('%j with success %s / failure %s → %s', (result, successCondition, failureCondition, phase) => {
    expect(evaluateResult(result, { successCondition, failureCondition }).phase).toBe(phase)
  })

  it.each([
    [
      [],
      'result[0] >= 0.95',
      /could not evaluate successCondition "result\[0\] >= 0\.95": metric result is nil or empty/,
    ],
    [[0.5, 1], 'result[3] >= 0.95', /could not evaluate successCondition .*index out of range/],
    ['abc', 'asInt(result) > 1', /could not evaluate successCondition .*invalid syntax/],
    [[1], 'result[0]', /must evaluate to a boolean, got int/],
    [[1], 'result[0] >=', /syntax error/],
  ])('%j with %s is an Error', (result, successCondition, message) => {
    const outcome = evaluateResult(result, { successCondition })
    expect(outcome.phase).toBe('Error')
    expect(outcome.message).toMatch(message)
    expect(outcome.message).not.toContain('\n')
  })

  it('evaluates failureCondition errors too', () => {
    expect(evaluateResult('x', { failureCondition: 'result > 1' })).toMatchObject({
      phase: 'Error',
      message: expect.stringMatching(/^could not evaluate failureCondition "result > 1": /),
    })
  })
})
