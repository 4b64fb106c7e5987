/**
 * A real browser for the dashboard tests: Debian's Chromium driven by playwright-core (no browser
 * download; `.ci/run` installs the package when missing). Each page is watched for console errors,
 * uncaught exceptions and failed requests, which the tests assert are none.
 */
import { existsSync } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Browser, chromium, type Page } from 'playwright-core'

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'

export const launchBrowser = (): Promise<Browser> => {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(`no Chromium at ${CHROMIUM_PATH}: install Debian's package (apt-get install chromium)`)
  }
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
}

export interface PageProblems {
  consoleErrors: string[]
  pageErrors: string[]
  /** Requests that failed outright or were answered with 4xx/5xx: "STATUS METHOD path". */
  failedRequests: string[]
}

/** Records what went wrong on a page from now on; `take()` returns it and starts afresh. */
export const watchPage = (page: Page) => {
  let problems: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [] }
  page.on('console', (message) => {
    if (message.type() === 'error') problems.consoleErrors.push(message.text())
  })
  page.on('pageerror', (error) => problems.pageErrors.push(error.message))
  page.on('requestfailed', (request) => {
    const reason = request.failure()?.errorText ?? 'failed'
    // A page that navigates or reloads aborts its own long-polls: that is not a failure.
    if (reason === 'net::ERR_ABORTED') return
    problems.failedRequests.push(`${reason} ${request.method()} ${new URL(request.url()).pathname}`)
  })
  page.on('response', (response) => {
    if (response.status() >= 400) {
      const request = response.request()
      problems.failedRequests.push(
        `${response.status()} ${request.method()} ${new URL(response.url()).pathname}`,
      )
    }
  })
  return {
    take(): PageProblems {
      const taken = problems
      problems = { consoleErrors: [], pageErrors: [], failedRequests: [] }
      return taken
    },
  }
}

/**
 * A fresh desktop-sized page, watched from its first request, at the dashboard of `baseUrl`,
 * signed in with `apiKey` through the sign-in form.
 */
export const openSignedIn = async (browser: Browser, baseUrl: string, apiKey: string) => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } })
  const page = await context.newPage()
  const problems = watchPage(page)
  await page.goto(baseUrl)
  await page.getByLabel('API key').fill(apiKey)
  await page.getByRole('button', { name: 'Sign in' }).click()
  return { context, page, problems }
}

export const NO_PROBLEMS: PageProblems = { consoleErrors: [], pageErrors: [], failedRequests: [] }

/** Screenshots land in tests/output/dashboard/<viewport>/ (ignored by git) for people to look at. */
export const screenshotDir = async (name: string): Promise<string> => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '..', 'output', 'dashboard', name)
  await mkdir(dir, { recursive: true })
  return dir
}

const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')

/**
 * The WCAG 2.1 A and AA rules of axe-core (contrast, labels, names, landmarks, …) on what the
 * page shows now, as "rule: elements" lines; none is the expectation. The audit runs through the
 * debugging protocol, so the page's Content-Security-Policy stays on for everything else.
 */
export const accessibilityViolations = async (page: Page): Promise<string[]> => {
  await page.evaluate(await axeSource)
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (options: object) => Promise<AxeResults> } }).axe
    const results = await axe.run({
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    })
    return results.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  })
  return violations
}

interface AxeResults {
  violations: { id: string; nodes: { target: string[] }[] }[]
}
