/**
 * The dashboard of a split deployment: served by a Node API (`ROLE=api`) in front of two
 * connectors over Redis, S3 and a shared database. The page shows which connector holds a session
 * and gets live events through the API's Socket.IO, a member of the connectors' cluster.
 */
import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import type { StatusView } from '../../shared/schemas.js'
import { decodeQrDataUrl } from '../demo/qr-decode.js'
import { EVENTUALLY, startTestbed, type Testbed } from '../e2e/harness.js'
import { launchBrowser, NO_PROBLEMS, openSignedIn } from '../support/browser.js'

const UI = { timeout: EVENTUALLY.timeout }

describe('dashboard of a split deployment', () => {
  let browser: Browser
  let bed: Testbed

  beforeAll(async () => {
    browser = await launchBrowser()
  })

  afterAll(async () => {
    await browser?.close()
  })

  beforeEach(async () => {
    bed = await startTestbed({ mode: 'split' })
  })

  afterEach(async () => {
    await bed?.close()
  })

  it('links by QR, names the owning connector and shows views live', async () => {
    const { sim } = bed
    const owner = sim.createAccount({ phone: '15550008001' })
    const contact = sim.createAccount({ phone: '15550008002' })
    const product = await bed.startProduct()
    const { context, page, problems } = await openSignedIn(browser, product.api.baseUrl, product.apiKey)
    await page.getByTestId('live-state').getByText('Live').waitFor(UI)
    await page.getByRole('link', { name: 'New session' }).click()
    await page.getByLabel('Session id').fill('split-qr')
    await page.getByLabel('Name', { exact: true }).fill('Split phone')
    await page.getByRole('button', { name: 'Create session' }).click()
    const qr = page.getByTestId('qr-image')
    await qr.waitFor(UI)
    await sim.scanQr(
      decodeQrDataUrl(`data:image/png;base64,${(await qr.screenshot()).toString('base64')}`),
      owner.phone,
    )
    await page.getByTestId('connected-as').getByText(`Connected as +${owner.phone}`).waitFor(UI)

    // The connector that holds the session, as the API reports it.
    const holder = await vi.waitFor(async () => {
      const sessions = (
        await product.api.get<{ sessionId: string; connectorId: string | null }[]>('/api/sessions')
      ).data
      const id = sessions.find((s) => s.sessionId === 'split-qr')?.connectorId
      expect(id).toMatch(/^connector-[12]$/)
      return id as string
    }, EVENTUALLY)
    await page.reload()
    await page.locator('dt', { hasText: 'Connector' }).locator('xpath=..').getByText(holder).waitFor(UI)
    await page.locator('[data-session="split-qr"]').getByText(`on ${holder}`).waitFor(UI)

    await page.getByLabel('Status text').fill('Split hello')
    await page.getByLabel('Audience', { exact: true }).fill(contact.phone)
    await page.getByRole('button', { name: 'Post status' }).click()
    await page.getByTestId('send-outcome').getByText('Sent to 1 contact.').waitFor(UI)
    const [status] = (await product.api.get<StatusView[]>('/api/sessions/split-qr/sent-statuses')).data
    await vi.waitFor(() => expect(sim.receivedStatuses(contact.phone)).toHaveLength(1), EVENTUALLY)
    await sim.view(contact.phone, owner.phone, status!.waMessageId!)
    await page
      .locator(`[data-status="${status?.id}"]`)
      .getByTestId('viewer-count')
      .getByText('1 viewer')
      .waitFor(UI)

    expect(problems.take()).toEqual(NO_PROBLEMS)
    await context.close()
  })
})
