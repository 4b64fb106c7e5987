import type { StatusJobRecord } from './db/types.js'
import type { StatusJobProgress } from './events.js'

/** The sizes of the chunks `recipients` numbers split into, `chunkSize` each and the rest last. */
export const chunkSizes = (recipients: number, chunkSize: number): number[] => {
  const sizes: number[] = []
  for (let offset = 0; offset < recipients; offset += chunkSize) {
    sizes.push(Math.min(chunkSize, recipients - offset))
  }
  return sizes
}

/** Counts of a job, from its chunks' outcomes. */
export const jobProgress = (job: StatusJobRecord): StatusJobProgress => {
  let recipientsSent = 0
  let recipientsFailed = 0
  let chunksSent = 0
  let chunksFailed = 0
  for (const chunk of job.chunks) {
    if (chunk.state === 'sent') {
      chunksSent++
      recipientsSent += chunk.size
    } else if (chunk.state === 'failed') {
      chunksFailed++
      recipientsFailed += chunk.size
    }
  }
  return {
    sessionId: job.sessionId,
    jobId: job.id,
    statusId: job.statusId,
    waMessageId: job.waMessageId,
    state: job.state,
    recipientsTotal: job.recipientsTotal,
    recipientsSent,
    recipientsFailed,
    chunksTotal: job.chunks.length,
    chunksSent,
    chunksFailed,
  }
}
