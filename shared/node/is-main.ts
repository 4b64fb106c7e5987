import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

/** Whether the module at `moduleUrl` is the script Node was started with (not an import). */
export const isMainModule = (moduleUrl: string): boolean => {
  const script = process.argv[1]
  if (!script) return false
  try {
    return pathToFileURL(realpathSync(script)).href === moduleUrl
  } catch {
    return false
  }
}
