import { afterEach, describe, expect, it } from 'vitest'
import { startFakePrometheus, type FakePrometheus } from './prometheus.js'
import { startFakeWebMetric, type FakeWebMetric } from './web.js'

let web: FakeWebMetric | undefined
let prom: FakePrometheus | undefined

afterEach(async () => {
  await web?.close()
  await prom?.close()
  web = undefined
  prom = undefined
})

describe('fake web metric endpoint', () => {
  it('answers each path with its sequence, repeating the last reply', async () => {
    web = await startFakeWebMetric()
    web.respond('/m', { json: { n: 1 } }, { status: 503, text: 'busy' }, { json: { n: 3 } })
    const answers: Array<[number, string]> = []
    for (let i = 0; i < 4; i++) {
      const response = await fetch(`${web.url}/m`)
      answers.push([response.status, await response.text()])
    }
    expect(answers).toEqual([
      [200, '{"n":1}'],
      [503, 'busy'],
      [200, '{"n":3}'],
      [200, '{"n":3}'],
    ])
    expect((await fetch(`${web.url}/other`)).status).toBe(404)
    expect(web.requests.map((r) => r.path)).toEqual(['/m', '/m', '/m', '/m', '/other'])
  })

  it('refuses connections once closed', async () => {
    web = await startFakeWebMetric()
    const url = web.url
    await web.close()
    await expect(fetch(url)).rejects.toThrow()
  })
})

describe('fake Prometheus', () => {
  it('speaks the /api/v1/query format over GET and POST', async () => {
    prom = await startFakePrometheus()
    prom.setResult('up', { vector: [{ metric: { job: 'api' }, value: 1 }, 0.5] })
    prom.setResult('scalar(1)', { scalar: 1 })
    const get: unknown = await (await fetch(`${prom.url}/api/v1/query?query=up&time=1700000000`)).json()
    expect(get).toEqual({
      status: 'success',
      data: {
        resultType: 'vector',
        result: [
          { metric: { job: 'api' }, value: [1700000000, '1'] },
          { metric: {}, value: [1700000000, '0.5'] },
        ],
      },
    })
    const post = await fetch(`${prom.url}/api/v1/query`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'query=scalar(1)&time=1700000000',
    })
    expect(await post.json()).toEqual({
      status: 'success',
      data: { resultType: 'scalar', result: [1700000000, '1'] },
    })
    expect(prom.queries()).toEqual(['up', 'scalar(1)'])
  })

  it('returns an empty vector for unknown series and Prometheus errors with their statuses', async () => {
    prom = await startFakePrometheus()
    const empty: unknown = await (await fetch(`${prom.url}/api/v1/query?query=nothing`)).json()
    expect(empty).toMatchObject({ status: 'success', data: { resultType: 'vector', result: [] } })
    const missing = await fetch(`${prom.url}/api/v1/query`)
    expect(missing.status).toBe(400)
    expect(await missing.json()).toMatchObject({ status: 'error', errorType: 'bad_data' })
    prom.setResult(
      'bad(',
      { error: 'parse error', errorType: 'bad_data' },
      { error: 'too many samples', errorType: 'execution' },
    )
    const first = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('bad(')}`)
    const second = await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent('bad(')}`)
    expect([first.status, second.status]).toEqual([400, 422])
    expect(await second.json()).toEqual({
      status: 'error',
      errorType: 'execution',
      error: 'too many samples',
    })
    prom.setResult('nan', { vector: [NaN, Infinity] })
    const special: unknown = await (await fetch(`${prom.url}/api/v1/query?query=nan&time=1`)).json()
    expect(special).toMatchObject({ data: { result: [{ value: [1, 'NaN'] }, { value: [1, '+Inf'] }] } })
  })
})
