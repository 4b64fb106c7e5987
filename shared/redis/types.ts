/**
 * The few Redis operations the stateless API needs, as raw commands, so one bus client works over
 * a TCP connection (Node) and over the Upstash REST API (Workers or Node) alike.
 */
export type RedisArg = string | number

export interface RedisCommands {
  /** One command; resolves with Redis' reply (strings, numbers, null, nested arrays). */
  call(args: RedisArg[]): Promise<unknown>
  /**
   * A command that blocks server-side (BLPOP …). It gets a connection of its own, so waiting for
   * one reply never delays other commands.
   */
  callBlocking(args: RedisArg[]): Promise<unknown>
  /** Runs a Lua script by its SHA, loading it once when the server does not know it yet. */
  evalScript(script: RedisScript, keys: string[], args: RedisArg[]): Promise<unknown>
  close(): Promise<void>
}

/** A Lua script with its SHA-1, computed once (Web Crypto, so it also works on Workers). */
export interface RedisScript {
  source: string
  sha(): Promise<string>
}

export const defineScript = (source: string): RedisScript => {
  let sha: Promise<string> | null = null
  return {
    source,
    sha() {
      sha ??= crypto.subtle
        .digest('SHA-1', new TextEncoder().encode(source))
        .then((digest) => Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join(''))
      return sha
    },
  }
}

/** Whether an error is Redis saying it has no script with that SHA (it restarted, or never had it). */
export const isNoScript = (error: unknown): boolean =>
  error instanceof Error && /NOSCRIPT/i.test(error.message)

/** Runs a script through EVALSHA, falling back to EVAL once when the server lost it. */
export const evalWith = async (
  call: (args: RedisArg[]) => Promise<unknown>,
  script: RedisScript,
  keys: string[],
  args: RedisArg[],
): Promise<unknown> => {
  try {
    return await call(['EVALSHA', await script.sha(), keys.length, ...keys, ...args])
  } catch (error) {
    if (!isNoScript(error)) throw error
    return call(['EVAL', script.source, keys.length, ...keys, ...args])
  }
}
