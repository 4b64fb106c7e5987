/**
 * One error model for the whole product. Services throw `AppError` with a code; the API edge maps
 * the code to an HTTP status through `HTTP_STATUS` and answers `{ success: false, error }`.
 * The connector sends the same code back over the bus, so a conflict found there is a 409 here.
 */
export const HTTP_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
  timeout: 504,
} as const

export type ErrorCode = keyof typeof HTTP_STATUS

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
    this.name = 'AppError'
  }

  get status(): (typeof HTTP_STATUS)[ErrorCode] {
    return HTTP_STATUS[this.code]
  }
}

export const isErrorCode = (value: unknown): value is ErrorCode =>
  typeof value === 'string' && Object.hasOwn(HTTP_STATUS, value)

/** The documented messages, kept in one place so the API, connector and tests agree on them. */
export const Messages = {
  sessionNotFound: 'Session not found',
  sessionExists: 'Session already exists',
  alreadyConnected: 'Session is already connected',
  phoneNotSet: 'Phone number not set for this session',
  pairingInProgress: 'Pairing code request already in progress',
  cannotPair: 'Cannot generate pairing code at this time',
  notConnected: 'WhatsApp is not connected',
  notPairingSession: 'Session uses QR code authentication',
  notQrSession: 'Session uses pairing code authentication',
  qrNotAvailable: 'QR code not available yet',
  statusNotFound: 'Status not found',
  onlyMedia: 'Only image and video files are allowed',
  noFile: 'No file uploaded',
  fileTooLarge: 'File too large',
  fileNotFound: 'Uploaded file not found',
  unauthorized: 'Invalid or missing API key',
  rateLimited: 'Too many requests, please try again later',
  connectorTimeout: 'The connector did not answer in time',
  connectorUnavailable: 'No connector is available for this session',
  commandInterrupted:
    'The connector handling this command stopped before it finished; it is not run again because its outcome is unknown',
  busUnavailable: 'The command bus (Redis) is unavailable, please try again shortly',
  busLostReply:
    'The command bus (Redis) failed while waiting for the answer; the command may have been carried out',
  internal: 'Internal server error',
} as const
