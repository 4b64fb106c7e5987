import { useCallback, useEffect, useState } from 'preact/hooks'

/** The current time, ticking every `everyMs`, for "5 min ago" and "3 h left". */
export const useNow = (everyMs = 30_000): number => {
  const [now, setNow] = useState(Date.now())
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), everyMs)
    return () => clearInterval(timer)
  }, [everyMs])
  return now
}

export interface Route {
  sessionId: string | null
  statusId: string | null
  creating: boolean
}

/** `#/sessions/{id}`, `#/sessions/{id}/statuses/{statusId}`, `#/new`: the back button works. */
export const parseRoute = (hash: string): Route => {
  const parts = hash.replace(/^#\/?/, '').split('/').map(decodeURIComponent)
  if (parts[0] === 'new') return { sessionId: null, statusId: null, creating: true }
  if (parts[0] === 'sessions' && parts[1]) {
    return {
      sessionId: parts[1],
      statusId: parts[2] === 'statuses' ? (parts[3] ?? null) : null,
      creating: false,
    }
  }
  return { sessionId: null, statusId: null, creating: false }
}

export const sessionHref = (sessionId: string) => `#/sessions/${encodeURIComponent(sessionId)}`
export const statusHref = (sessionId: string, statusId: string) =>
  `${sessionHref(sessionId)}/statuses/${encodeURIComponent(statusId)}`

export const useRoute = (): Route => {
  const [route, setRoute] = useState(() => parseRoute(location.hash))
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.hash))
    addEventListener('hashchange', update)
    return () => removeEventListener('hashchange', update)
  }, [])
  return route
}

/**
 * A list only the admin key may read (webhooks, API keys): read once and again on `load()`. A 403
 * (the page is signed in with a scoped key) sets `forbidden`, so the card is left out instead of
 * showing an error.
 */
export const useAdminList = <T>(read: () => Promise<T[]>) => {
  const [list, setList] = useState<T[] | null>(null)
  const [error, setError] = useState<string | null>(null)
  const [forbidden, setForbidden] = useState(false)
  const load = useCallback(
    () =>
      read().then(setList, (e: { status?: number; message: string }) =>
        e.status === 403 ? setForbidden(true) : setError(e.message),
      ),
    [read],
  )
  useEffect(() => {
    void load()
  }, [load])
  return { list, error, setError, forbidden, load }
}

/** `items` with `item` added, or removed when it is there (checkbox groups). */
export const toggled = <T>(items: readonly T[], item: T): T[] =>
  items.includes(item) ? items.filter((x) => x !== item) : [...items, item]
