/**
 * Every Redis key and channel the bus uses, in one place. Nothing here is durable: Redis may come
 * back empty, and each structure is rebuilt by the side that owns it (see the README's scale note).
 */
export const RedisKeys = {
  /** Stream of one session's commands; only the lease holder reads it (consumer group below). */
  commands: (sessionId: string) => `wa:cmd:${sessionId}`,
  /** Which connector holds the session's WhatsApp socket (SET NX PX, renewed). */
  lease: (sessionId: string) => `wa:lease:${sessionId}`,
  /** The reply list of one command (LPUSH by the connector, BLPOP by the API). */
  reply: (commandId: string) => `wa:reply:${commandId}`,
  /** Sorted set: connector id → epoch ms until which its last heartbeat holds. */
  connectors: 'wa:connectors',
  /** Hash of one connector: session count, capacity, Socket.IO URL. Expires with the heartbeat. */
  connector: (connectorId: string) => `wa:connector:${connectorId}`,
  /** Pub/sub channel: a session id that has a command waiting and no owner yet. */
  placement: 'wa:placement',
  /** Stream of events born in the API (session-created, …) for a connector to broadcast. */
  events: 'wa:events',
  /** Random value set once per Redis lifetime; a change means Redis restarted empty. */
  epoch: 'wa:epoch',
} as const

/** The consumer group of every command stream and of the events stream. */
export const CONNECTOR_GROUP = 'connectors'

/** Streams stay short: commands are consumed within their timeout, then only history remains. */
export const COMMAND_STREAM_MAXLEN = 1_000
export const EVENT_STREAM_MAXLEN = 10_000

/** How long a reply waits for the API to pick it up before Redis drops it. */
export const REPLY_TTL_MS = 60_000

/** Events older than this are not broadcast any more (no connector was up to relay them). */
export const EVENT_MAX_AGE_MS = 30_000
