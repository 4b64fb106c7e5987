import { setFlagsFromString } from 'node:v8'

/**
 * V8 flags every product process runs with (`runProcess` applies them first thing; benches that
 * start the product inside their own process apply them too, as the product would).
 *
 * `--no-allocation-site-pretenuring`: V8 allocates the objects of an allocation site straight in
 * the old generation once most of them survived a scavenge. A connector's synchronous bursts
 * (Baileys generating hundreds of pre-keys while linking, decrypting a burst of receipts) hold
 * the event loop while HTTP requests wait with their objects alive, so node:http's per-request
 * objects get tenured, and that decision sticks: every later request then allocates in the old
 * generation, the heap grows by tens of MB per second under load and scavenges take 5× longer.
 * With 100 freshly linked sessions, health cost 80–95 µs of CPU per request instead of 35–45, until
 * a restart. Without pretenuring the same process stays at its 0-session cost, and the product's
 * own ingest pipeline got faster, not slower (tests/bench/viewer-ingest.bench.ts: 106–118k vs
 * 76–98k receipts/s).
 */
export const V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring']

let applied = false

/** Sets `V8_FLAGS` once per process (V8 reads them when it next decides, so early is enough). */
export const applyV8Flags = (): void => {
  if (applied) return
  applied = true
  for (const flag of V8_FLAGS) setFlagsFromString(flag)
}
