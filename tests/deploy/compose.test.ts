import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { ConfigSchema, loadConfig } from '../../shared/config.js'

/**
 * `docker compose config` cannot run here (no Docker engine), so the compose file and what it
 * points at are checked the way Compose would read them: YAML with merge keys, `${VAR}`
 * interpolation from `.env` (infra/example.env here), build contexts and Dockerfiles that exist,
 * dependencies on services that exist, and — what Compose cannot check — that each product
 * container's environment is a configuration the product accepts for its role.
 */
const root = join(import.meta.dirname, '..', '..')

interface Service {
  image?: string
  build?: { context: string; dockerfile?: string }
  environment?: Record<string, string | number | boolean | null>
  depends_on?: string[] | Record<string, { condition: string }>
  volumes?: string[]
  ports?: string[]
  env_file?: unknown
  entrypoint?: string[]
  command?: string[]
  healthcheck?: unknown
}

const readEnvFile = async (path: string): Promise<Record<string, string>> => {
  const env: Record<string, string> = {}
  for (const line of (await readFile(path, 'utf8')).split('\n')) {
    const match = /^\s*([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line)
    if (match?.[1]) env[match[1]] = match[2] ?? ''
  }
  return env
}

/** Compose's interpolation: ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
const interpolate = (value: string, env: Record<string, string>): string =>
  value.replace(/\$\{([A-Z_][A-Z0-9_]*)(?:(:?)([-?])([^}]*))?\}/g, (_, name: string, colon, op, arg) => {
    const set = name in env && (colon !== ':' || env[name] !== '')
    if (op === '?' && !set) throw new Error(`${name} is required: ${arg}`)
    if (set) return env[name] ?? ''
    return op === '-' ? arg : ''
  })

const loadCompose = async (env: Record<string, string>) => {
  const text = await readFile(join(root, 'docker-compose.yml'), 'utf8')
  const doc = parse(text, { merge: true }) as {
    services: Record<string, Service>
    volumes?: Record<string, unknown>
  }
  const resolved = JSON.parse(
    JSON.stringify(doc, (_, value) => (typeof value === 'string' ? interpolate(value, env) : value)),
  ) as typeof doc
  return resolved
}

describe('docker-compose.yml', () => {
  it('parses, and every service has an image or a build whose Dockerfile exists', async () => {
    const compose = await loadCompose({
      ...(await readEnvFile(join(root, 'infra', 'example.env'))),
      API_KEY: 'x'.repeat(24),
    })
    const names = Object.keys(compose.services)
    expect(names).toEqual(
      expect.arrayContaining([
        'api',
        'connector-1',
        'connector-2',
        'redis',
        'upstash-rest',
        'minio',
        'libsql',
      ]),
    )
    for (const [name, service] of Object.entries(compose.services)) {
      expect({ name, ok: Boolean(service.image || service.build) }).toEqual({ name, ok: true })
      if (service.build) {
        const dockerfile = join(root, service.build.context, service.build.dockerfile ?? 'Dockerfile')
        expect({ name, dockerfile, exists: existsSync(dockerfile) }).toMatchObject({ exists: true })
      }
    }
  })

  it('depends only on services it declares, with conditions Compose knows', async () => {
    const compose = await loadCompose({ API_KEY: 'x'.repeat(24) })
    const names = new Set(Object.keys(compose.services))
    for (const [name, service] of Object.entries(compose.services)) {
      const deps = Array.isArray(service.depends_on)
        ? service.depends_on.map((d) => [d, 'service_started'] as const)
        : Object.entries(service.depends_on ?? {}).map(([d, v]) => [d, v.condition] as const)
      for (const [dep, condition] of deps) {
        expect({ name, dep, known: names.has(dep) }).toMatchObject({ known: true })
        expect(['service_started', 'service_healthy', 'service_completed_successfully']).toContain(condition)
        if (condition === 'service_healthy') expect(compose.services[dep]?.healthcheck ?? null).not.toBeNull()
      }
    }
  })

  it('mounts only declared volumes and files that exist, and publishes each host port once', async () => {
    const compose = await loadCompose({ API_KEY: 'x'.repeat(24) })
    const declared = new Set(Object.keys(compose.volumes ?? {}))
    const hostPorts: string[] = []
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] ?? ''
        if (source.startsWith('.') || source.startsWith('/')) {
          expect({ name, source, exists: existsSync(join(root, source)) }).toMatchObject({ exists: true })
        } else {
          expect({ name, source, declared: declared.has(source) }).toMatchObject({ declared: true })
        }
      }
      for (const port of service.ports ?? []) hostPorts.push(String(port).split(':')[0] ?? '')
    }
    expect(new Set(hostPorts).size).toBe(hostPorts.length)
  })

  it('refuses to start without an API key, as the product would', async () => {
    await expect(loadCompose({})).rejects.toThrow(/API_KEY is required/)
  })

  it('gives each product container a configuration the product accepts for its role', async () => {
    const env = {
      ...(await readEnvFile(join(root, 'infra', 'example.env'))),
      API_KEY: 'a-compose-api-key-0123',
    }
    const compose = await loadCompose(env)
    const known = new Set(Object.keys(ConfigSchema.shape))
    const roles: Record<string, string> = {}
    for (const [name, service] of Object.entries(compose.services)) {
      if (!service.build) continue
      const environment = Object.fromEntries(
        Object.entries(service.environment ?? {}).map(([key, value]) => [
          key,
          value === null ? '' : String(value),
        ]),
      )
      // A variable the product does not read would be a silent typo.
      expect({ name, unknown: Object.keys(environment).filter((key) => !known.has(key)) }).toEqual({
        name,
        unknown: [],
      })
      const config = loadConfig(environment)
      roles[name] = config.ROLE
    }
    expect(roles).toEqual({ api: 'api', 'connector-1': 'connector', 'connector-2': 'connector' })
  })
})

describe('infra/Dockerfile', () => {
  it('copies what exists and starts the entry `npm start` runs', async () => {
    const dockerfile = await readFile(join(root, 'infra', 'Dockerfile'), 'utf8')
    for (const line of dockerfile.split('\n').filter((l) => l.startsWith('COPY '))) {
      for (const source of line.trim().split(/\s+/).slice(1, -1)) {
        expect({ source, exists: existsSync(join(root, source)) }).toMatchObject({ exists: true })
      }
    }
    const packageJson = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      scripts: { start: string }
    }
    const entry = packageJson.scripts.start.split(/\s+/).at(-1) ?? ''
    expect(dockerfile).toContain(entry)
    expect(existsSync(join(root, entry))).toBe(true)
  })
})
