import type { AudienceRecord } from '../../shared/db/types.js'
import { appError } from '../../shared/errors.js'
import { randomHex } from '../../shared/random.js'
import { MAX_TARGET_NUMBERS, parseTargetNumbers } from '../../shared/schemas.js'
import { requireSession, type ServiceContext } from './context.js'
import { iso } from './views.js'

const toAudienceView = (audience: AudienceRecord) => ({
  audienceId: audience.id,
  name: audience.name,
  size: audience.numbers.length,
  numbers: audience.numbers,
  createdAt: iso(audience.createdAt),
})

/** The numbers of a saved audience, for a send that names it. */
export const savedAudienceNumbers = async (
  ctx: ServiceContext,
  sessionId: string,
  audienceId: string,
): Promise<string[]> => {
  const audience = await ctx.repos.audiences.get(sessionId, audienceId)
  if (!audience) throw appError('audienceNotFound')
  return audience.numbers
}

/** Every synced contact's number, for `targetNumbers: "all"`, within the per-send limit. */
export const syncedContactNumbers = async (ctx: ServiceContext, sessionId: string): Promise<string[]> => {
  const numbers = (await ctx.repos.contacts.list(sessionId)).map((contact) => contact.number)
  if (numbers.length === 0) throw appError('noContacts')
  if (numbers.length > MAX_TARGET_NUMBERS) {
    throw appError('tooManyContacts', String(numbers.length), String(MAX_TARGET_NUMBERS))
  }
  return numbers
}

/** Who a send can name besides its numbers: saved audiences (`audienceId`) and the synced contacts (`"all"`). */
export class AudienceService {
  constructor(private readonly ctx: ServiceContext) {}

  async create(sessionId: string, input: { name: string; numbers: string }) {
    await requireSession(this.ctx, sessionId)
    const audience: AudienceRecord = {
      sessionId,
      id: `aud_${randomHex(6)}`,
      name: input.name,
      numbers: parseTargetNumbers(input.numbers),
      createdAt: this.ctx.clock(),
    }
    await this.ctx.repos.audiences.insert(audience)
    return toAudienceView(audience)
  }

  async list(sessionId: string) {
    await requireSession(this.ctx, sessionId)
    return (await this.ctx.repos.audiences.list(sessionId)).map(toAudienceView)
  }

  /** The session's synced contacts, by number: who `"all"` reaches. */
  async contacts(sessionId: string) {
    await requireSession(this.ctx, sessionId)
    return this.ctx.repos.contacts.list(sessionId)
  }

  async delete(sessionId: string, audienceId: string) {
    await requireSession(this.ctx, sessionId)
    if (!(await this.ctx.repos.audiences.delete(sessionId, audienceId))) throw appError('audienceNotFound')
    return { audienceId, message: 'Audience deleted' }
  }
}
