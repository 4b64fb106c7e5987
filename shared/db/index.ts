/**
 * The data layer over any libSQL client, Workers included (no `node:*` here). Node processes open
 * the client with `shared/node/db-client.ts`; the Baileys auth state lives with the connector
 * (connector/auth/), the only side that holds WhatsApp sockets.
 */
export { type Migration, migrate, migrations } from './migrations.js'
export { createRepositories } from './repositories/index.js'
export type * from './types.js'
