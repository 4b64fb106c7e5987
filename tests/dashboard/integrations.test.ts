/**
 * The dashboard's webhooks and API keys cards in a real browser against the product. Webhooks: a
 * refused URL said beside the field, a webhook added with its secret shown once, its deliveries
 * listed and redelivered, then removed (the receiver is a local server checking the signatures).
 * API keys: one created for a session with its key shown once, working as scoped, then revoked.
 * The composer: a status to all of the phone's synced contacts.
 */
import { join } from 'node:path'
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { verifyWebhookSignature } from '../../client/webhooks.js'
import { Messages } from '../../shared/errors.js'
import { ApiClient, EVENTUALLY, linkByQr, startTestbed, type Testbed } from '../e2e/harness.js'
import {
  accessibilityViolations,
  launchBrowser,
  NO_PROBLEMS,
  openSignedIn,
  screenshotDir,
} from '../support/browser.js'
import { WebhookReceiver } from '../support/webhook-receiver.js'

const UI = { timeout: EVENTUALLY.timeout }

let browser: Browser
beforeAll(async () => {
  browser = await launchBrowser()
})
afterAll(async () => {
  await browser?.close()
})

describe('dashboard integrations', () => {
  let bed: Testbed
  let receiver: WebhookReceiver

  beforeEach(async () => {
    bed = await startTestbed({ mode: 'embedded' })
    receiver = await WebhookReceiver.start()
  })

  afterEach(async () => {
    await bed?.close()
    await receiver?.close()
  })

  it('adds a webhook with its secret shown once, lists and redelivers its deliveries, removes it', async () => {
    const product = await bed.startProduct({ env: { WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}` } })
    const { context, page, problems } = await openSignedIn(browser, product.api.baseUrl, product.apiKey)
    const card = page.getByTestId('webhooks')
    await card.getByRole('heading', { name: 'Webhooks' }).waitFor(UI)

    // A private address is refused, and said beside the field.
    await card.getByLabel('Receiver URL').fill('http://10.1.2.3/hook')
    await card.getByRole('button', { name: 'Add webhook' }).click()
    await card.getByText(Messages.urlNonPublic).waitFor(UI)
    expect(await card.getByLabel('Receiver URL').getAttribute('aria-invalid')).toBe('true')
    expect(problems.take().failedRequests).toEqual(['400 POST /api/webhooks'])

    await card.getByLabel('Receiver URL').fill(receiver.url)
    await card.getByRole('checkbox', { name: 'session-created' }).check()
    await card.getByRole('button', { name: 'Add webhook' }).click()
    const secret = (await card.getByTestId('webhook-secret').locator('code').innerText()).trim()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/)
    await card.getByText('every session, session-created').waitFor(UI)
    // The secret is nowhere else to be read.
    expect(JSON.stringify((await product.api.get('/api/webhooks')).data)).not.toContain(secret)

    expect(
      (
        await product.api.post('/api/sessions', {
          sessionId: 'hooked',
          sessionName: 'Hooked',
          authMethod: 'qrcode',
        })
      ).status,
    ).toBe(201)
    await vi.waitFor(() => expect(receiver.bodies('session-created')).toHaveLength(1), EVENTUALLY)
    const [delivery] = receiver.received
    expect(
      await verifyWebhookSignature({
        secret,
        header: delivery!.headers['x-webhook-signature'] as string,
        body: delivery!.body,
      }),
    ).toBe(true)

    await card.getByRole('button', { name: 'Done' }).click()
    await card.getByRole('button', { name: 'Deliveries' }).click()
    const log = card.getByTestId('deliveries')
    await log.getByText('delivered').waitFor(UI)
    await log.getByRole('button', { name: 'Redeliver' }).click()
    await vi.waitFor(() => expect(receiver.bodies('session-created')).toHaveLength(2), EVENTUALLY)
    expect(receiver.received[1]?.body).toBe(delivery?.body)
    await vi.waitFor(async () => expect(await log.getByRole('row').count()).toBe(3), UI)

    const shots = await screenshotDir('1280x800')
    await page.screenshot({ path: join(shots, '09-webhooks.png'), fullPage: true })
    expect(await accessibilityViolations(page)).toEqual([])

    // Paused: nothing new is queued for it; resumed again.
    await card.getByRole('button', { name: 'Pause' }).click()
    await card.getByText('— paused').waitFor(UI)
    expect((await product.api.get<{ active: boolean }[]>('/api/webhooks')).data[0]?.active).toBe(false)
    await card.getByRole('button', { name: 'Resume' }).click()
    await card.getByRole('button', { name: 'Pause' }).waitFor(UI)

    await card.getByRole('button', { name: 'Remove' }).click()
    await card.getByRole('button', { name: 'Remove it' }).click()
    await card.getByText(receiver.url, { exact: true }).waitFor({ state: 'detached', ...UI })
    expect((await product.api.get('/api/webhooks')).data).toEqual([])
    expect(problems.take()).toEqual(NO_PROBLEMS)
    await context.close()
  })

  it('creates a key for one session, shows it once, and revokes it', async () => {
    const product = await bed.startProduct()
    for (const [sessionId, sessionName] of [
      ['shop', 'Shop'],
      ['home', 'Home'],
    ]) {
      expect(
        (await product.api.post('/api/sessions', { sessionId, sessionName, authMethod: 'qrcode' })).status,
      ).toBe(201)
    }
    const { context, page, problems } = await openSignedIn(browser, product.api.baseUrl, product.apiKey)
    const card = page.getByTestId('api-keys')
    await card.getByRole('heading', { name: 'API keys' }).waitFor(UI)
    await card.getByText('Create a key').click()
    await card.getByLabel('Name').fill('Shop reports')
    await card.getByRole('radio', { name: /^Send:/ }).check()
    await card.getByRole('checkbox', { name: 'Shop' }).check()
    await card.getByRole('button', { name: 'Create key' }).click()
    const key = (await card.getByTestId('new-key').locator('code').innerText()).trim()
    expect(key).toMatch(/^wsk_[A-Za-z0-9_-]{43}$/)
    await card.getByText('send, Shop; never used').waitFor(UI)

    const scoped = new ApiClient(product.api.baseUrl, key)
    expect((await scoped.get<{ sessionId: string }[]>('/api/sessions')).data.map((s) => s.sessionId)).toEqual(
      ['shop'],
    )
    expect((await scoped.get('/api/sessions/home/sent-statuses')).status).toBe(403)

    const shots = await screenshotDir('1280x800')
    await page.screenshot({ path: join(shots, '10-api-keys.png'), fullPage: true })
    expect(await accessibilityViolations(page)).toEqual([])

    await card.getByRole('button', { name: 'Done' }).click()
    await card.getByRole('button', { name: 'Revoke' }).click()
    await card.getByRole('button', { name: 'Revoke it' }).click()
    await card.getByText(/revoked/).waitFor(UI)
    expect((await scoped.get('/api/sessions')).status).toBe(401)
    expect(problems.take()).toEqual(NO_PROBLEMS)
    await context.close()
  })

  it("posts to all of the phone's synced contacts from the composer", async () => {
    const alice = bed.sim.createAccount({ phone: '15550050002' })
    const bob = bed.sim.createAccount({ phone: '15550050003' })
    const owner = bed.sim.createAccount({
      phone: '15550050001',
      addressBook: [{ phone: alice.phone, name: 'Alice' }, { phone: bob.phone }],
    })
    const product = await bed.startProduct()
    await linkByQr(product, bed.sim, { sessionId: 'synced', phone: owner.phone })
    await vi.waitFor(async () => {
      expect((await product.api.get<unknown[]>('/api/sessions/synced/contacts')).data).toHaveLength(2)
    }, EVENTUALLY)
    const { context, page, problems } = await openSignedIn(browser, product.api.baseUrl, product.apiKey)
    await page.locator('[data-session="synced"]').click()
    await page.getByLabel('Status text').fill('For everyone in my phone')
    await page.getByRole('button', { name: 'All synced contacts (2)' }).click()
    await vi.waitFor(
      async () => expect(await page.getByTestId('audience-count').textContent()).toBe('2 contacts'),
      UI,
    )
    await page.getByRole('button', { name: 'Post status' }).click()
    await page.getByTestId('send-outcome').getByText('Sent to 2 contacts.').waitFor(UI)
    for (const contact of [alice, bob]) {
      await vi.waitFor(() => expect(bed.sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    }
    expect(problems.take()).toEqual(NO_PROBLEMS)
    await context.close()
  })

  it("follows a big audience's job chunk by chunk in the composer", async () => {
    const contacts = ['15550050012', '15550050013'].map((phone) => bed.sim.createAccount({ phone }))
    const owner = bed.sim.createAccount({ phone: '15550050011' })
    // One number per chunk and a pause long enough to see the first chunk reported alone.
    const product = await bed.startProduct({
      env: { STATUS_JOB_THRESHOLD: '1', STATUS_CHUNK_SIZE: '1', STATUS_CHUNK_PAUSE_MS: '1500' },
    })
    await linkByQr(product, bed.sim, { sessionId: 'many', phone: owner.phone })
    const { context, page, problems } = await openSignedIn(browser, product.api.baseUrl, product.apiKey)
    await page.locator('[data-session="many"]').click()
    await page.getByLabel('Status text').fill('For a crowd')
    await page.getByLabel('Audience', { exact: true }).fill(contacts.map((c) => c.phone).join(', '))
    await page.getByRole('button', { name: 'Post status' }).click()
    const progress = page.getByTestId('job-progress')
    await progress.getByText('Sending to 2 contacts in 2 chunks: 1 reached').waitFor(UI)
    expect(await progress.locator('progress').getAttribute('value')).toBe('1')
    await page.getByTestId('send-outcome').getByText('Sent to 2 contacts.').waitFor(UI)
    for (const contact of contacts) {
      await vi.waitFor(() => expect(bed.sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    }
    expect(problems.take()).toEqual(NO_PROBLEMS)
    await context.close()
  })
})
