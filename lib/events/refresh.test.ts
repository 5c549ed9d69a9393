import { describe, expect, it } from 'vitest'
import { eventsApp, projectYaml } from '../../test/events/app.js'
import { queryIndex, getResource } from '../store/resources.js'
import { keys } from '../store/table.js'
import { requestRefresh, warehousesFor } from './refresh.js'

describe('warehousesFor', () => {
  it.each([
    ['an image, any tag or digest form', { images: ['GHCR.io/acme/guestbook:v9'] }, ['images']],
    [
      'a git repo, any case, .git or not',
      { git: ['https://GitHub.com/acme/guestbook-config.git'] },
      ['config', 'docs'],
    ],
    // As in Kargo, https and ssh URLs are different repositories (push payloads carry both forms).
    ['the ssh form of an https subscription', { git: ['git@github.com:acme/guestbook-config.git'] }, []],
    [
      'a push to main touching apps/',
      {
        git: ['https://github.com/acme/guestbook-config'],
        ref: 'refs/heads/main',
        changedPaths: ['apps/guestbook/x.yaml'],
      },
      ['config'],
    ],
    [
      'a push with unknown paths',
      { git: ['https://github.com/acme/guestbook-config'], ref: 'refs/heads/main' },
      ['config', 'docs'],
    ],
    [
      'a push to another branch',
      { git: ['https://github.com/acme/guestbook-config'], ref: 'refs/heads/dev' },
      [],
    ],
    ['another repository', { git: ['https://github.com/acme/other'], images: ['ghcr.io/acme/other'] }, []],
  ])('%s', async (_name, change, expected) => {
    const { db, apply } = await eventsApp()
    await apply(projectYaml('p'))
    expect((await warehousesFor(db, 'p', change)).sort()).toEqual(expected)
  })
})

describe('requestRefresh', () => {
  it('makes the Warehouse due now, for the discover schedule', async () => {
    const { db, apply } = await eventsApp()
    await apply(projectYaml('p'))
    const future = new Date(Date.now() + 3_600_000).toISOString()
    const { updateResource } = await import('../store/resources.js')
    await updateResource(db, { project: 'p', kind: 'Warehouse', name: 'images' }, (w) => ({
      ...w,
      status: { nextDiscoveryAt: future },
    }))
    const dueNow = async () =>
      (await queryIndex(db, 'GSI2', keys.dueWarehouses, { upTo: `${new Date().toISOString()}#\uffff` })).map(
        (w) => w.metadata.name,
      )
    expect(await dueNow()).not.toContain('images')
    await expect(requestRefresh(db, 'p', 'images')).resolves.toMatchObject({ warehouse: 'images', ok: true })
    expect(await dueNow()).toContain('images')
    expect(
      (await getResource(db, { project: 'p', kind: 'Warehouse', name: 'images' }))?.status,
    ).toMatchObject({ nextDiscoveryAt: expect.any(String) })
  })
})
