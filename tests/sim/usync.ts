/**
 * `<iq xmlns="usync">` answers. The query names protocols (`<devices version="2"/>`, `<lid/>`,
 * `<contact/>`, …) and lists users by `jid` or by `<contact>+phone</contact>`; the result echoes
 * each user with one child per protocol. Details Baileys relies on:
 * - `devices`: `<device-list><device id="0"/><device id="N" key-index="K"/></device-list>`; a
 *   non-zero device without `key-index` is silently dropped by the client.
 * - `lid`: `<lid val="…@lid"/>` makes the client store the PN→LID mapping and address the user's
 *   Signal sessions by LID from then on.
 * - `contact`: `type="in"` means the number is on WhatsApp.
 */
import { type BinaryNode, getBinaryNodeChild, getBinaryNodeChildren } from '@whiskeysockets/baileys'
import type { AccountRegistry, SimAccount } from './accounts.js'

export function answerUsync(iq: BinaryNode, accounts: AccountRegistry): BinaryNode {
  const usync = getBinaryNodeChild(iq, 'usync')
  const queryNode = usync && getBinaryNodeChild(usync, 'query')
  const protocols = Array.isArray(queryNode?.content) ? queryNode.content.map((p) => p.tag) : []
  const listNode = usync && getBinaryNodeChild(usync, 'list')
  const users = listNode ? getBinaryNodeChildren(listNode, 'user') : []
  const resultUsers = users.map((user) => answerUser(user, protocols, accounts))
  return {
    tag: 'iq',
    attrs: { from: 's.whatsapp.net', type: 'result', id: iq.attrs.id! },
    content: [
      {
        tag: 'usync',
        attrs: {
          sid: usync?.attrs.sid ?? '',
          index: '0',
          last: 'true',
          mode: usync?.attrs.mode ?? 'query',
          context: usync?.attrs.context ?? 'interactive',
        },
        content: [
          { tag: 'result', attrs: {}, content: protocols.map((tag) => ({ tag, attrs: {} })) },
          { tag: 'list', attrs: {}, content: resultUsers },
        ],
      },
    ],
  }
}

function answerUser(user: BinaryNode, protocols: string[], accounts: AccountRegistry): BinaryNode {
  const contact = getBinaryNodeChild(user, 'contact')
  const phone = typeof contact?.content === 'string' ? contact.content : bytesToString(contact?.content)
  const jid = user.attrs.jid ?? `${(phone ?? '').replace(/\D/g, '')}@s.whatsapp.net`
  const found = accounts.resolve(jid)
  const content = protocols.map((protocol) => protocolChild(protocol, found?.account, found?.server ?? 'pn'))
  return { tag: 'user', attrs: { jid }, content }
}

function protocolChild(protocol: string, account: SimAccount | undefined, server: 'pn' | 'lid'): BinaryNode {
  switch (protocol) {
    case 'devices':
      return {
        tag: 'devices',
        attrs: {},
        content: [
          {
            tag: 'device-list',
            attrs: {},
            content: (account?.activeDevices() ?? []).map(({ id, keyIndex }): BinaryNode => {
              const attrs: Record<string, string> = { id: String(id) }
              if (keyIndex) attrs['key-index'] = String(keyIndex)
              return { tag: 'device', attrs }
            }),
          },
        ],
      }
    case 'lid':
      return account?.lid && server === 'pn'
        ? { tag: 'lid', attrs: { val: account.lidJid()! } }
        : { tag: 'lid', attrs: {} }
    case 'contact':
      return { tag: 'contact', attrs: { type: account ? 'in' : 'out' } }
    default:
      return { tag: protocol, attrs: {} }
  }
}

const bytesToString = (content: BinaryNode['content']): string | undefined =>
  content instanceof Uint8Array ? Buffer.from(content).toString('utf8') : undefined
