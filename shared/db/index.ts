/**
 * The data layer for Node processes. Workers builds import `./repositories/index.js` and
 * `./migrations.js` directly, since this entry also pulls in `node:*` and Baileys.
 */
export { createDbAuthState, type DbAuthState, type DbAuthStateOptions } from './auth-state.js'
export { localFilePath, openDatabase } from './client.js'
export { type Migration, migrate, migrations } from './migrations.js'
export { createRepositories } from './repositories/index.js'
export type * from './types.js'
