import type { App } from './types.js'

/**
 * The OpenAPI document and a reference page at /docs, both public: they describe the API and hold
 * nothing secret (no keys, sessions or configuration).
 * The page is rendered on the server from the same document into plain HTML with inline styles:
 * no CDN assets and no script, so it works offline and needs no key to read.
 */

type Json = Record<string, unknown>

const documentConfig = (version: string): Parameters<App['getOpenAPI31Document']>[0] => ({
  openapi: '3.1.0',
  info: {
    title: 'WhatsApp Status Tracker API',
    version,
    description:
      'Manage WhatsApp sessions, post statuses and read who viewed them. Every /api route needs the API key ' +
      '(`x-api-key` or `Authorization: Bearer`), except the health check, this document and signed upload links. ' +
      'Requests are rate-limited per IP, those without a valid key in a smaller budget. Responses are `{ "success": true, "data": … }` or `{ "success": false, "error": "…" }`.',
  },
  security: [{ ApiKey: [] as string[] }, { Bearer: [] as string[] }],
})

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[ch] ?? ch,
  )

const asObject = (value: unknown): Json => (value && typeof value === 'object' ? (value as Json) : {})

/** A compact, TypeScript-like rendering of a JSON schema. */
const schemaText = (schema: unknown, doc: Json, indent = '', depth = 0): string => {
  const s = asObject(schema)
  if (typeof s.$ref === 'string') {
    const name = s.$ref.split('/').at(-1) ?? ''
    const target = asObject(asObject(asObject(doc.components).schemas)[name])
    return depth > 4 ? name : schemaText(target, doc, indent, depth + 1)
  }
  if ('const' in s) return JSON.stringify(s.const)
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ')
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const parts = s[key]
    if (Array.isArray(parts))
      return parts.map((p) => schemaText(p, doc, indent, depth + 1)).join(key === 'allOf' ? ' & ' : ' | ')
  }
  const types = Array.isArray(s.type) ? (s.type as string[]) : [typeof s.type === 'string' ? s.type : 'any']
  return types
    .map((type) => {
      if (type === 'array') return `${schemaText(s.items, doc, indent, depth + 1)}[]`
      if (type !== 'object') return type === 'string' && s.format === 'binary' ? 'file' : type
      const properties = asObject(s.properties)
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : [])
      const keys = Object.keys(properties)
      if (keys.length === 0)
        return s.additionalProperties
          ? `Record<string, ${schemaText(s.additionalProperties, doc, indent, depth + 1)}>`
          : '{}'
      const inner = `${indent}  `
      const lines = keys.map((key) => {
        const property = asObject(properties[key])
        const note = typeof property.description === 'string' ? `  // ${property.description}` : ''
        return `${inner}${key}${required.has(key) ? '' : '?'}: ${schemaText(property, doc, inner, depth + 1)}${note}`
      })
      return `{\n${lines.join('\n')}\n${indent}}`
    })
    .join(' | ')
}

const renderOperation = (method: string, path: string, op: Json, doc: Json) => {
  const parameters = (Array.isArray(op.parameters) ? op.parameters : []).map(asObject)
  const body = asObject(asObject(op.requestBody).content)
  const responses = asObject(op.responses)
  const isPublic = Array.isArray(op.security) && op.security.length === 0
  const parts = [
    `<section class="op" id="${escapeHtml(`${method}-${path}`)}">`,
    `<h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code>${isPublic ? ' <span class="pub">no key</span>' : ''}</h3>`,
    `<p>${escapeHtml(String(op.summary ?? ''))}</p>`,
  ]
  if (op.description) parts.push(`<p class="desc">${escapeHtml(String(op.description))}</p>`)
  if (parameters.length > 0) {
    parts.push('<h4>Parameters</h4><ul>')
    for (const p of parameters) {
      parts.push(
        `<li><code>${escapeHtml(String(p.name))}</code> (${escapeHtml(String(p.in))}) ${escapeHtml(schemaText(p.schema, doc))}</li>`,
      )
    }
    parts.push('</ul>')
  }
  for (const [type, media] of Object.entries(body)) {
    parts.push(
      `<h4>Body <code>${escapeHtml(type)}</code></h4><pre>${escapeHtml(schemaText(asObject(media).schema, doc))}</pre>`,
    )
  }
  parts.push('<h4>Responses</h4><ul>')
  for (const [status, response] of Object.entries(responses)) {
    const r = asObject(response)
    const schema = asObject(asObject(asObject(r.content)['application/json']).schema)
    const showSchema = status.startsWith('2') && Object.keys(schema).length > 0
    parts.push(
      `<li><b>${escapeHtml(status)}</b> ${escapeHtml(String(r.description ?? ''))}${showSchema ? `<pre>${escapeHtml(schemaText(schema, doc))}</pre>` : ''}</li>`,
    )
  }
  parts.push('</ul></section>')
  return parts.join('\n')
}

export const renderDocsPage = (doc: Json): string => {
  const info = asObject(doc.info)
  const byTag = new Map<string, string[]>()
  for (const [path, item] of Object.entries(asObject(doc.paths))) {
    for (const [method, op] of Object.entries(asObject(item))) {
      const operation = asObject(op)
      const tag = Array.isArray(operation.tags) ? String(operation.tags[0]) : 'Other'
      byTag.set(tag, [...(byTag.get(tag) ?? []), renderOperation(method, path, operation, doc)])
    }
  }
  const sections = [...byTag].map(([tag, ops]) => `<h2>${escapeHtml(tag)}</h2>\n${ops.join('\n')}`).join('\n')
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(String(info.title))}</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2330}
h2{border-bottom:1px solid #dde;padding-bottom:.3rem;margin-top:2.5rem}
.op{border:1px solid #e3e6ee;border-radius:8px;padding:.3rem 1rem;margin:1rem 0}
.m{display:inline-block;min-width:4.5rem;text-align:center;border-radius:4px;color:#fff;font-size:.8rem;padding:.1rem .4rem}
.get{background:#2f7d4f}.post{background:#2d5fb3}.put{background:#a86b00}.delete{background:#b3362d}
.pub{font-size:.75rem;color:#2f7d4f;border:1px solid #2f7d4f;border-radius:4px;padding:0 .3rem}
pre{background:#f5f6fa;padding:.6rem;border-radius:6px;overflow:auto;font-size:.85rem}
.desc{color:#4a5060}
</style></head><body>
<h1>${escapeHtml(String(info.title))} <small>${escapeHtml(String(info.version))}</small></h1>
<p>${escapeHtml(String(info.description ?? ''))}</p>
<p>Machine-readable document: <code>GET /api/openapi.json</code> (public, no API key needed).</p>
${sections}
</body></html>`
}

export const registerDocs = (app: App, version: string) => {
  app.openAPIRegistry.registerComponent('securitySchemes', 'ApiKey', {
    type: 'apiKey',
    in: 'header',
    name: 'x-api-key',
  })
  app.openAPIRegistry.registerComponent('securitySchemes', 'Bearer', { type: 'http', scheme: 'bearer' })
  const config = documentConfig(version)
  app.doc31('/api/openapi.json', config)
  // Routes are fixed once the app is built, so the page is rendered once, on first request.
  let page: string | null = null
  app.get('/docs', (c) => {
    page ??= renderDocsPage(app.getOpenAPI31Document(config) as unknown as Json)
    return c.html(page)
  })
}
