import type { CommandClient, EventPublisher } from '../../shared/bus/types.js'
import type { Config } from '../../shared/config.js'
import type { ReadOptions, Repositories, SessionRecord } from '../../shared/db/types.js'
import { AppError, appError } from '../../shared/errors.js'
import type { EventMessage } from '../../shared/events.js'
import type { MediaStore } from '../../shared/storage/types.js'
import type { AppLogger, HostResolver } from '../types.js'

/** What every service works with; built once in `createApp`. */
export interface ServiceContext {
  config: Config
  repos: Repositories
  commands: CommandClient
  events: EventPublisher
  media: MediaStore
  clock: () => number
  logger: AppLogger
  resolveHost?: HostResolver
}

/**
 * The session, or 404. Reads come from the read model when there is one; pass `{ fresh: true }`
 * before acting on the session's state (commands), so a connector's latest write decides.
 */
export const requireSession = async (
  ctx: ServiceContext,
  sessionId: string,
  options?: ReadOptions,
): Promise<SessionRecord> => {
  const session = await ctx.repos.sessions.get(sessionId, options)
  if (!session) throw appError('sessionNotFound')
  return session
}

/** What a command is about to change lives in another process's writes: drop the cached rows. */
export const afterCommand = (ctx: ServiceContext): void => {
  ctx.repos.sessions.invalidate?.()
  ctx.repos.statuses.invalidate?.()
}

/**
 * Events follow a change that is already stored, so a failed publish must not turn the request into
 * an error; clients resync from the REST API. It is logged instead.
 */
export const publishSafely = async (ctx: ServiceContext, message: EventMessage): Promise<void> => {
  try {
    await ctx.events.publish(message)
  } catch (error) {
    ctx.logger.warn(
      { event: message.event, sessionId: message.payload.sessionId, error: errorSummary(error) },
      'event publish failed',
    )
  }
}

/** A short, content-free description of an error for logs. */
export const errorSummary = (error: unknown) =>
  error instanceof AppError
    ? `${error.code}: ${error.message}`
    : error instanceof Error
      ? error.name
      : 'unknown'

/**
 * Deletes uploads no status refers to any more (file and record). Returns the names deleted.
 * Called after statuses are removed, so a file shared by another status stays.
 */
export const releaseUnusedMedia = async (
  ctx: ServiceContext,
  filenames: Iterable<string>,
): Promise<Set<string>> => {
  const deleted = new Set<string>()
  for (const filename of new Set(filenames)) {
    if (await ctx.repos.statuses.isMediaReferenced(filename)) continue
    const removed = await ctx.media.delete(filename)
    await ctx.repos.uploads.delete(filename)
    if (removed) deleted.add(filename)
  }
  return deleted
}
