/** Small helpers over byte streams; Web Streams only, so they run on Workers as well as Node. */

/** A web ReadableStream as an async iterable that cancels the stream when the consumer stops early. */
export async function* iterateWebStream(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  let finished = false
  try {
    while (true) {
      const { done, value } = await reader.read()
      if (done) {
        finished = true
        return
      }
      yield value
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {})
    reader.releaseLock()
  }
}

const concat = (chunks: Uint8Array[], total: number) => {
  const out = new Uint8Array(total)
  let offset = 0
  for (const chunk of chunks) {
    out.set(chunk, offset)
    offset += chunk.byteLength
  }
  return out
}

export interface PeekedStream {
  /** At least `size` leading bytes, or the whole stream when it is shorter. */
  head: Uint8Array
  /** The whole stream again, head included; consume it or call `cancel`. */
  body: AsyncIterable<Uint8Array>
  cancel(): Promise<void>
}

/** Reads just enough of a stream to sniff its type, without losing those bytes for the writer. */
export const peekHead = async (source: AsyncIterable<Uint8Array>, size: number): Promise<PeekedStream> => {
  const iterator = source[Symbol.asyncIterator]()
  const chunks: Uint8Array[] = []
  let total = 0
  let ended = false
  while (total < size) {
    const next = await iterator.next()
    if (next.done) {
      ended = true
      break
    }
    chunks.push(next.value)
    total += next.value.byteLength
  }
  const head = concat(chunks, total)
  const cancel = async () => {
    if (!ended) await iterator.return?.()
    ended = true
  }
  async function* body(): AsyncGenerator<Uint8Array> {
    try {
      if (head.byteLength > 0) yield head
      while (!ended) {
        const next = await iterator.next()
        if (next.done) ended = true
        else yield next.value
      }
    } finally {
      await cancel()
    }
  }
  return { head, body: body(), cancel }
}

/** A byte iterable as a Web stream, for a Response body (pulled as the client reads). */
export const toWebStream = (source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> => {
  const iterator = source[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next()
      if (done) controller.close()
      else controller.enqueue(value)
    },
    async cancel() {
      await iterator.return?.()
    },
  })
}
