/**
 * The simulated people of the demo: "your phone" (the account the product links to) and three
 * contacts that receive and view its statuses. Numbers are in the 555 fictional range.
 */
import type { ViewOptions } from '../sim/receipts.js'
import type { WaSimulator } from '../sim/server.js'

export interface DemoContact {
  name: string
  phone: string
  /** simulated devices including the phone */
  devices: number
  /** how the simulator addresses this contact's view receipts (the `/views` options) */
  view: ViewOptions
  note: string
}

export const YOUR_PHONE = { name: 'Your phone', phone: '15550100001' }

export const CONTACTS: readonly DemoContact[] = [
  {
    name: 'Alice',
    phone: '15550100002',
    devices: 2,
    view: {},
    note: 'two devices (phone + one more)',
  },
  { name: 'Bob', phone: '15550100003', devices: 1, view: {}, note: 'one device' },
  {
    name: 'Carol',
    phone: '15550100004',
    devices: 1,
    // Her receipts name her by LID alone (no `participant_pn`): the product must find her number itself.
    view: { asLid: true, withoutPn: true },
    note: 'LID-only: her views name only her LID; the product finds her number',
  },
]

/** Creates the demo accounts on a fresh simulator. */
export function createCast(sim: WaSimulator): void {
  sim.createAccount({ phone: YOUR_PHONE.phone, pushName: YOUR_PHONE.name })
  for (const contact of CONTACTS) {
    sim.createAccount({ phone: contact.phone, pushName: contact.name, devices: contact.devices })
  }
}
