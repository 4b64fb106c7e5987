/**
 * Live events of the API, typed by the product's event map (`shared/events.ts`): every listener
 * gets its event's payload type. Uses socket.io-client.
 *
 *   const events = connectEvents({ baseUrl: 'http://localhost:3000', apiKey })
 *   events.on('status-viewers-update', ({ statusId, newViewers }) => …)
 */
import { io, type Socket } from 'socket.io-client'
import type { ClientToServerEvents, ServerToClientEvents } from '../shared/events.js'

export type TrackerEvents = Socket<ServerToClientEvents, ClientToServerEvents>

export const connectEvents = (options: { baseUrl: string; apiKey: string }): TrackerEvents =>
  io(options.baseUrl, { auth: { apiKey: options.apiKey } })

export type { EventName, ServerEvents } from '../shared/events.js'
