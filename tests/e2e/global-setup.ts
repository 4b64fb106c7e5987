import { execFileSync } from 'node:child_process'
import { readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { TestProject } from 'vitest/node'
import { makeTlsMaterial } from '../sim/media.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Folder with the simulator TLS material every test worker already trusts. */
    simTlsDir: string
  }
}

/**
 * Runs once in vitest's main process, before any worker starts. It brings the build up to date and creates the simulator's CA and
 * upload-host certificate and points NODE_EXTRA_CA_CERTS at the CA. Node reads that variable only
 * at process start, and the forked workers inherit this process's environment, so a product started
 * inside a worker trusts the simulator's upload host through Node's standard mechanism: TLS checks
 * stay on and the product needs no test-only agent. Simulators reuse the material (`tls` option).
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // The product serves the built dashboard (and compiled entries some suites start): a source
  // edited since the last build is built again, so tests never see an older page.
  execFileSync(process.execPath, ['infra/build.mjs', '--if-stale'], {
    cwd: project.config.root,
    stdio: 'ignore',
  })
  // Workers inherit this environment: the pinned AWS SDK's notice about future Node releases is noise.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  const tls = await makeTlsMaterial()
  const previous = process.env.NODE_EXTRA_CA_CERTS
  // Node takes one extra-CA file: keep whatever a developer already trusts beside the simulator CA.
  const inherited = previous ? await readFile(previous, 'utf8').catch(() => '') : ''
  const bundle = join(tls.dir, 'trusted.pem')
  await writeFile(bundle, `${inherited.trimEnd()}\n${await readFile(tls.caCertPath, 'utf8')}`.trimStart())
  process.env.NODE_EXTRA_CA_CERTS = bundle
  project.provide('simTlsDir', tls.dir)

  return async () => {
    if (previous === undefined) delete process.env.NODE_EXTRA_CA_CERTS
    else process.env.NODE_EXTRA_CA_CERTS = previous
    await rm(tls.dir, { recursive: true, force: true })
  }
}
