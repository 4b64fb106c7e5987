/** What this browser keeps: the API key and, for deployments whose events live elsewhere, their URL. */
const KEY = 'wst.apiKey'
const EVENTS_URL = 'wst.eventsUrl'

const read = (name: string): string | null => {
  try {
    return localStorage.getItem(name)
  } catch {
    return null // storage disabled: the key lasts as long as the page
  }
}

const write = (name: string, value: string | null): void => {
  try {
    if (value) localStorage.setItem(name, value)
    else localStorage.removeItem(name)
  } catch {
    // as above
  }
}

export const savedKey = () => read(KEY)
export const savedEventsUrl = () => read(EVENTS_URL)
export const saveSignIn = (key: string, eventsUrl: string | null) => {
  write(KEY, key)
  write(EVENTS_URL, eventsUrl)
}
export const forgetKey = () => write(KEY, null)
