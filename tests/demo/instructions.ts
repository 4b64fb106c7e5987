/**
 * What `npm run demo` prints once everything runs: that it is a simulation, where things are, and
 * copy-paste curl commands for the whole path (link, post, view, read viewers). demo.test.ts runs
 * these very commands, so they stay true.
 */
import { CONTACTS, YOUR_PHONE } from './cast.js'

export const SIMULATION_NOTICE = 'SIMULATION — no real WhatsApp account is contacted.'
export const READY_LINE = 'Press Ctrl-C to stop the product and the simulator.'

export interface DemoEndpoints {
  productUrl: string
  apiKey: string
  phoneUrl: string
  dataDir: string
}

const JSON_HEADER = '-H "Content-Type: application/json"'
const AUTH = '-H "x-api-key: $KEY"'

export function renderInstructions({ productUrl, apiKey, phoneUrl, dataDir }: DemoEndpoints): string {
  const me = YOUR_PHONE.phone
  const targets = CONTACTS.map((c) => c.phone).join(',')
  const viewers = CONTACTS.map((c) =>
    Object.keys(c.view).length ? JSON.stringify({ phone: c.phone, ...c.view }) : `"${c.phone}"`,
  )
  const lidOnly = CONTACTS.find((c) => c.view.asLid)
  const rule = '='.repeat(96)
  return [
    rule,
    SIMULATION_NOTICE,
    'The product running here is the real one (the same code as `npm start`), but its WhatsApp side is a',
    'local simulator: the phone and the contacts below are simulated, live only in memory and are gone',
    `when the demo stops. Demo data: ${dataDir} (emptied on every start).`,
    rule,
    '',
    `Dashboard                   ${productUrl}/   (sign in with the API key below)`,
    `Product (REST + Socket.IO)  ${productUrl}   API docs: ${productUrl}/docs`,
    `API key                     ${apiKey}`,
    `Simulated phone             ${phoneUrl}   (the simulator's control API, see tests/sim/control.ts)`,
    '',
    'Simulated accounts',
    `  ${me}  ${YOUR_PHONE.name.padEnd(10)}  link the product to this account`,
    ...CONTACTS.map((c) => `  ${c.phone}  ${c.name.padEnd(10)}  ${c.note}`),
    '',
    'Try it: paste these into another terminal, one step at a time.',
    '',
    `export KEY=${apiKey} API=${productUrl}/api PHONE=${phoneUrl}`,
    '',
    '# 1. Link "your phone" with a pairing code: create the session, then read its code',
    '#    (if "pairingCode" is still null, ask again in a second)',
    `curl -s -X POST $API/sessions ${AUTH} ${JSON_HEADER} \\`,
    `  -d '{"sessionId":"demo","sessionName":"Demo","authMethod":"pairing","phoneNumber":"${me}"}'`,
    `curl -s $API/sessions/demo/pairing-code ${AUTH}`,
    '',
    '#    Type the code on the simulated phone (replace <pairingCode> with the code shown)',
    `curl -s -X POST $PHONE/accounts/${me}/pairing-code ${JSON_HEADER} -d '{"code":"<pairingCode>"}'`,
    '',
    '# 2. Or link with a QR code: the simulated phone "scans" the QR image the product shows',
    `curl -s -X POST $API/sessions ${AUTH} ${JSON_HEADER} \\`,
    `  -d '{"sessionId":"demo-qr","sessionName":"Demo (QR)","authMethod":"qrcode"}'`,
    'curl -s -X POST $PHONE/demo/scan-qr/demo-qr',
    '',
    '# 3. Linked? Look for "connected":true. (The product log shows "stream errored out" with code 515',
    '#    right after a link: that is the normal restart WhatsApp asks for, not a failure.)',
    `curl -s $API/sessions/demo/connection-status ${AUTH}`,
    '',
    '# 4. Post a text status to the three contacts; the answer has its "statusId" and "waMessageId"',
    `curl -s -X POST $API/sessions/demo/send-status ${AUTH} ${JSON_HEADER} \\`,
    `  -d '{"type":"text","content":"Hello from the demo","backgroundColor":"#315575","font":1,"targetNumbers":"${targets}"}'`,
    '',
    `# 5. The contacts view it (replace <waMessageId>)${lidOnly ? `; ${lidOnly.name}'s view names only her LID` : ''}`,
    `curl -s -X POST $PHONE/views/burst ${JSON_HEADER} \\`,
    `  -d '{"owner":"${me}","id":"<waMessageId>","viewers":[${viewers.join(',')}]}'`,
    '',
    '# 6. Who viewed it (replace <statusId>)',
    `curl -s $API/sessions/demo/status-viewers/<statusId> ${AUTH}`,
    '',
    `What a contact received:  curl -s $PHONE/accounts/${CONTACTS[0]?.phone}/statuses`,
    'Live events (Socket.IO) and every endpoint: README.md and the API docs above.',
    '',
    READY_LINE,
    '',
  ].join('\n')
}
