/**
 * Answers to the IQs a logged-in client sends. Baileys' post-login sequence:
 * `encrypt <count/>` (0 → it uploads 812 pre-keys with `encrypt set`), `passive <active/>`,
 * `encrypt <digest/>` (a reply without `<digest>` makes it re-upload and log a warning), then on
 * `connection: open` `abt <props/>`, `blocklist`, `privacy <privacy/>`; later `w:p <ping/>` every
 * 30 s, `w:m <media_conn/>` before uploads, `usync` and `encrypt <key>` before sends, and
 * `w:sync:app:state` during the initial app-state sync. Unknown IQs get an empty result, which
 * Baileys accepts everywhere it only needs the request not to fail.
 */
import { type BinaryNode, getBinaryNodeChildren } from '@whiskeysockets/baileys'
import type { AccountRegistry, SimAccount } from './accounts.js'
import { firstChild, SERVER_JID, type SimConnection } from './connection.js'
import { iqError } from './linking.js'
import type { PairingCodes } from './pairing-code.js'
import { type KeyBundle, keyBundleNode, parseKeyUpload } from './prekeys.js'
import { answerUsync } from './usync.js'

export interface IqContext {
  accounts: AccountRegistry
  pairingCodes: PairingCodes
  /** `host:port` of the HTTPS media server */
  mediaHost: () => string
  mediaAuth: string
  onPreKeysUploaded(conn: SimConnection): void
  onPreKeysLow(account: SimAccount, deviceId: number, remaining: number): void
  onCompanionRemoved(conn: SimConnection): void
}

const result = (iq: BinaryNode, content?: BinaryNode[]): BinaryNode => ({
  tag: 'iq',
  attrs: { from: SERVER_JID, type: 'result', id: iq.attrs.id! },
  content,
})

/** The queries a client sends before a status stanza: who has which devices, and their keys. */
const PREPARE_QUERIES = new Set(['usync/usync', 'encrypt/key'])

export async function answerIq(ctx: IqContext, conn: SimConnection, iq: BinaryNode): Promise<void> {
  if (iq.attrs.type !== 'get' && iq.attrs.type !== 'set') return
  const child = firstChild(iq)
  const reply = await routeIq(ctx, conn, iq, child)
  if (!reply) return
  const delayMs = conn.account?.queryDelayMs ?? 0
  if (delayMs > 0 && PREPARE_QUERIES.has(`${iq.attrs.xmlns}/${child?.tag ?? ''}`)) {
    // Answered from a timer, so the connection keeps handling its other frames meanwhile.
    setTimeout(() => void conn.sendNode(reply), delayMs)
    return
  }
  await conn.sendNode(reply)
}

async function routeIq(
  ctx: IqContext,
  conn: SimConnection,
  iq: BinaryNode,
  child: BinaryNode | undefined,
): Promise<BinaryNode | undefined> {
  const companion = conn.companion
  switch (`${iq.attrs.xmlns}/${child?.tag ?? ''}`) {
    case 'md/link_code_companion_reg':
      if (child!.attrs.stage === 'companion_hello') {
        await ctx.pairingCodes.onCompanionHello(conn, iq, child!)
        return undefined
      }
      if (child!.attrs.stage === 'companion_finish' && ctx.pairingCodes.onCompanionFinish(conn, iq, child!))
        return undefined
      return iqError(iq, 400, 'bad-request')
    case 'md/remove-companion-device':
      ctx.onCompanionRemoved(conn)
      return result(iq)
    case 'encrypt/count':
      return result(iq, [{ tag: 'count', attrs: { value: String(companion?.keys.preKeys.length ?? 0) } }])
    case 'encrypt/registration': {
      if (!companion) return iqError(iq, 401, 'not-authorized')
      const upload = parseKeyUpload(iq)
      const known = new Set(companion.keys.preKeys.map((key) => key.id))
      companion.keys = {
        ...upload,
        preKeys: [...companion.keys.preKeys, ...upload.preKeys.filter((key) => !known.has(key.id))],
      }
      ctx.onPreKeysUploaded(conn)
      return result(iq)
    }
    case 'encrypt/digest':
      return result(iq, [{ tag: 'digest', attrs: {} }])
    case 'encrypt/rotate':
      return result(iq)
    case 'encrypt/key':
      return result(iq, [{ tag: 'list', attrs: {}, content: await keyBundles(ctx, child!) }])
    case 'usync/usync':
      return answerUsync(iq, ctx.accounts)
    case 'w:m/media_conn':
      return result(iq, [
        {
          tag: 'media_conn',
          attrs: { auth: ctx.mediaAuth, ttl: '3600', auth_ttl: '3600', max_buckets: '12' },
          content: [
            { tag: 'host', attrs: { hostname: ctx.mediaHost(), maxContentLengthBytes: '104857600' } },
          ],
        },
      ])
    case 'privacy/privacy':
      return result(iq, [{ tag: 'privacy', attrs: {}, content: privacyCategories() }])
    case 'blocklist/':
      return result(iq, [{ tag: 'list', attrs: {} }])
    case 'abt/props':
      return result(iq, [{ tag: 'props', attrs: { protocol: '1' } }])
    case 'w:sync:app:state/sync':
      // an account with no app state: every collection is empty at version 0
      return result(iq, [
        {
          tag: 'sync',
          attrs: {},
          content: getBinaryNodeChildren(child!, 'collection').map((c) => ({
            tag: 'collection',
            attrs: { name: c.attrs.name ?? '', version: c.attrs.version ?? '0' },
          })),
        },
      ])
    default:
      return result(iq)
  }
}

/** `encrypt <key><user jid/>…`: one bundle per requested device; unknown devices get an error child. */
async function keyBundles(ctx: IqContext, keyNode: BinaryNode): Promise<BinaryNode[]> {
  const users: BinaryNode[] = []
  for (const user of getBinaryNodeChildren(keyNode, 'user')) {
    const jid = user.attrs.jid ?? ''
    const bundle = await bundleFor(ctx, jid)
    users.push(
      bundle
        ? keyBundleNode(jid, bundle)
        : {
            tag: 'user',
            attrs: { jid },
            content: [{ tag: 'error', attrs: { code: '404', text: 'item-not-found' } }],
          },
    )
  }
  return users
}

async function bundleFor(ctx: IqContext, jid: string): Promise<KeyBundle | undefined> {
  const found = ctx.accounts.resolve(jid)
  if (!found) return undefined
  const simulated = found.account.simulated.get(found.device)
  if (simulated) return simulated.takeBundle()
  const companion = found.account.activeCompanion(found.device)
  if (!companion) return undefined
  // a linked client's bundle comes from what it uploaded; each one-time key is handed out once
  const { registrationId, identityKey, signedPreKey, preKeys } = companion.keys
  const preKey = preKeys.shift()
  if (preKeys.length < 5) ctx.onPreKeysLow(found.account, found.device, preKeys.length)
  return { registrationId, identityKey, signedPreKey, preKey }
}

function privacyCategories(): BinaryNode[] {
  const settings: Record<string, string> = {
    readreceipts: 'all',
    last: 'all',
    online: 'all',
    profile: 'all',
    status: 'contacts',
    groupadd: 'all',
    calladd: 'all',
    messages: 'all',
  }
  return Object.entries(settings).map(([name, value]) => ({ tag: 'category', attrs: { name, value } }))
}
