import { defineScript } from '../redis/types.js'

/**
 * Queues a command only while at least one connector is alive, in one atomic step: a command
 * nobody can run is refused at once (503) instead of sitting in the stream and running later,
 * after the caller was told it failed. A session without an owner is announced for placement.
 *
 * KEYS: command stream, connectors zset, lease key. ARGV: id, name, input JSON, deadline ms,
 * stream maxlen, session id, placement channel, request id. Returns 1 when queued, 0 when no
 * connector is up.
 */
export const ENQUEUE_COMMAND = defineScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZCOUNT', KEYS[2], now, '+inf') == 0 then return 0 end
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], '*', 'id', ARGV[1], 'name', ARGV[2], 'input', ARGV[3], 'deadline', ARGV[4], 'requestId', ARGV[8])
if not redis.call('GET', KEYS[3]) then redis.call('PUBLISH', ARGV[7], ARGV[6]) end
return 1
`)

/**
 * Renews this connector's leases in one round trip. A lease that is gone (Redis restarted empty)
 * is taken again; one held by another connector is reported lost, and the caller stops that
 * session's socket at once.
 *
 * KEYS: lease keys. ARGV: connector id, lease ms. Returns the indexes (1-based) of lost leases.
 */
export const RENEW_LEASES = defineScript(`
local lost = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
  elseif not owner then
    redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
  else
    table.insert(lost, i)
  end
end
return lost
`)

/** Gives a lease up, but only if it is still ours. KEYS: lease key. ARGV: connector id. */
export const RELEASE_LEASE = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

/**
 * Fixed-window counter shared by every API instance. KEYS: counter key. ARGV: window ms.
 * Returns { count in this window, ms until the window ends }.
 */
export const RATE_LIMIT_HIT = defineScript(`
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return { count, ttl }
`)

/**
 * Takes back a lease that already names this connector (it restarted with the same id before the
 * lease ran out). KEYS: lease key. ARGV: connector id, lease ms. Returns 1 when it is ours again.
 */
export const RECLAIM_OWN_LEASE = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`)
