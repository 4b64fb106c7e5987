import type { ApiKeyRecord, KeyScope } from '../../shared/db/types.js'
import { appError } from '../../shared/errors.js'
import { randomBase64Url, randomHex } from '../../shared/random.js'
import { hashApiKey, SCOPED_KEY_PREFIX, type ScopedKeyResolver } from '../../shared/security/scoped-keys.js'
import { requireSession, type ServiceContext } from './context.js'
import { iso, isoOrNull } from './views.js'

const toKeyView = (key: ApiKeyRecord) => ({
  keyId: key.id,
  name: key.name,
  keyPrefix: key.keyPrefix,
  scopes: key.scopes,
  sessionIds: key.sessionIds,
  createdAt: iso(key.createdAt),
  lastUsedAt: isoOrNull(key.lastUsedAt),
  revokedAt: isoOrNull(key.revokedAt),
})

/** API keys besides the admin key, limited to scopes and sessions; only the admin key manages them. */
export class ApiKeyService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly resolver: ScopedKeyResolver,
  ) {}

  async create(input: { name: string; scopes: KeyScope[]; sessionIds?: string[] | undefined }) {
    const sessionIds = input.sessionIds === undefined ? null : [...new Set(input.sessionIds)]
    for (const sessionId of sessionIds ?? []) await requireSession(this.ctx, sessionId)
    const key = `${SCOPED_KEY_PREFIX}${randomBase64Url(32)}`
    const record: ApiKeyRecord = {
      id: `key_${randomHex(6)}`,
      name: input.name,
      keyHash: await hashApiKey(key),
      keyPrefix: key.slice(0, SCOPED_KEY_PREFIX.length + 6),
      scopes: [...new Set(input.scopes)],
      sessionIds,
      createdAt: this.ctx.clock(),
      lastUsedAt: null,
      revokedAt: null,
    }
    await this.ctx.repos.apiKeys.insert(record)
    return { ...toKeyView(record), key }
  }

  async list() {
    return (await this.ctx.repos.apiKeys.list()).map(toKeyView)
  }

  async revoke(keyId: string) {
    if (!(await this.ctx.repos.apiKeys.revoke(keyId, this.ctx.clock()))) throw appError('apiKeyNotFound')
    this.resolver.forget()
    return { keyId, message: 'API key revoked' }
  }
}
