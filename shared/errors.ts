/**
 * One error model for the whole product. Services throw `AppError` with a code; the API edge maps
 * the code to an HTTP status through `HTTP_STATUS` and answers `{ success: false, error }`.
 * The connector sends the same code back over the bus, so a conflict found there is a 409 here.
 */
export const HTTP_STATUS = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
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

type Message = string | ((...args: string[]) => string)

/**
 * Every error a client can be told, each with the one code (and so HTTP status) it always comes
 * with: the API, the connector and the tests all name errors from here, so the same condition can
 * never answer 400 on one path and 404 on another. Some messages take details (`appError(name, …)`).
 */
export const Errors = {
  // sessions and linking
  sessionNotFound: ['not_found', 'Session not found'],
  sessionExists: ['conflict', 'Session already exists'],
  alreadyConnected: ['conflict', 'Session is already connected'],
  phoneNotSet: ['bad_request', 'Phone number not set for this session'],
  pairingInProgress: ['conflict', 'Pairing code request already in progress'],
  cannotPair: ['unavailable', 'Cannot generate pairing code at this time'],
  /** WhatsApp gave no pairing code within the request's time. */
  cannotPairInTime: ['timeout', 'Cannot generate pairing code at this time'],
  notConnected: ['conflict', 'WhatsApp is not connected'],
  notPairingSession: ['conflict', 'Session uses QR code authentication'],
  // statuses
  statusNotFound: ['not_found', 'Status not found'],
  invalidCursor: ['bad_request', 'cursor is not a cursor this list gave out'],
  audienceNotFound: ['not_found', 'Audience not found'],
  noContacts: ['bad_request', 'targetNumbers "all": this session has no synced contacts yet'],
  tooManyContacts: [
    'bad_request',
    (count: string, max: string) =>
      `targetNumbers "all": this session has ${count} contacts, a send reaches at most ${max} numbers`,
  ],
  sendAtInPast: ['bad_request', 'sendAt must be in the future'],
  jobNotFound: ['not_found', 'Job not found'],
  scheduledNotFound: ['not_found', 'Scheduled status not found'],
  scheduledNotPending: ['conflict', 'Only a scheduled status that has not started can be cancelled'],
  sendPrepareTimeout: ['timeout', 'WhatsApp took too long to prepare the status'],
  sendAckTimeout: ['timeout', 'No acknowledgement from WhatsApp in time'],
  sendConnectionClosed: ['unavailable', 'The WhatsApp connection closed before the status was acknowledged'],
  statusRejected: ['unavailable', (code: string) => `WhatsApp rejected the status (error ${code})`],
  couldNotSend: ['unavailable', (reason: string) => `WhatsApp could not send the status: ${reason}`],
  revokeRejected: ['unavailable', (code: string) => `WhatsApp rejected the deletion (error ${code})`],
  couldNotRevoke: ['unavailable', (reason: string) => `WhatsApp could not delete the status: ${reason}`],
  /** Only a status WhatsApp accepted (and whose message id is known) can be deleted on the phones. */
  notRevocable: ['conflict', 'Only a sent status can be deleted for everyone'],
  sendAbandoned: [
    'unavailable',
    'The connector stopped before WhatsApp acknowledged the status; it may still have been posted',
  ],
  // uploads
  onlyMedia: ['unsupported_media_type', 'Only image and video files are allowed'],
  noFile: ['bad_request', 'No file uploaded'],
  fileTooLarge: ['payload_too_large', 'File too large'],
  fileNotFound: ['bad_request', 'Uploaded file not found'],
  /** Reading a stored upload back: there is none of that name (or it is not media). */
  mediaNotFound: ['not_found', 'Media file not found'],
  uploadLinkInvalid: ['unauthorized', 'Invalid upload link'],
  uploadLinkExpired: ['unauthorized', 'Upload link has expired'],
  uploadLinkUsed: ['conflict', 'This upload link has already been used'],
  uploadTypeMismatch: [
    'unsupported_media_type',
    (sniffed: string, declared: string) =>
      `File content is ${sniffed}, but the upload link was signed for ${declared}`,
  ],
  uploadContentType: ['bad_request', (declared: string) => `Content-Type must be ${declared}`],
  invalidMediaName: ['bad_request', 'Invalid media file name'],
  multipartMalformed: ['bad_request', 'Malformed multipart body'],
  multipartTooManyParts: ['bad_request', 'Too many parts in multipart body'],
  uploadInterrupted: ['bad_request', 'Upload was interrupted'],
  // media URLs (the API's check at request time, the connector's at download time)
  urlInvalid: ['bad_request', 'content must be a valid http(s) URL for type "url"'],
  urlScheme: ['bad_request', 'URL must use http or https'],
  urlCredentials: ['bad_request', 'URL must not contain a username or password'],
  urlNonPublic: ['bad_request', 'URL must not point to a private, local or reserved network address'],
  urlUnresolvable: ['bad_request', 'Could not resolve the URL host'],
  mediaUrlInvalid: ['bad_request', 'content must be a valid http(s) URL'],
  mediaUrlTooLarge: ['payload_too_large', 'Media at the URL is larger than the upload limit'],
  mediaUrlRedirects: ['bad_request', 'Too many redirects while fetching the media URL'],
  mediaUrlTimeout: ['bad_request', 'Timed out fetching the media URL'],
  mediaUrlFailed: ['bad_request', 'Could not fetch the media URL'],
  mediaUrlStatus: ['bad_request', (status: string) => `Could not fetch the media URL (HTTP ${status})`],
  // webhooks
  webhookNotFound: ['not_found', 'Webhook not found'],
  deliveryNotFound: ['not_found', 'Delivery not found'],
  webhookUrlInvalid: ['bad_request', 'url must be a valid http(s) URL'],
  // access
  unauthorized: ['unauthorized', 'Invalid or missing API key'],
  keyLacksScope: ['forbidden', (scope: string) => `This API key lacks the "${scope}" scope`],
  keyOtherSession: ['forbidden', 'This API key cannot access this session'],
  keyNeedsAllSessions: ['forbidden', 'This needs an API key for every session; this one is limited to some'],
  keyNeedsAdminKey: ['forbidden', 'Only the admin API key (API_KEY) can do this'],
  apiKeyNotFound: ['not_found', 'API key not found'],
  rateLimited: ['rate_limited', 'Too many requests, please try again later'],
  // the bus and the system
  connectorTimeout: ['timeout', 'The connector did not answer in time'],
  connectorUnavailable: ['unavailable', 'No connector is available for this session'],
  commandInterrupted: [
    'unavailable',
    'The connector handling this command stopped before it finished; it is not run again because its outcome is unknown',
  ],
  busUnavailable: ['unavailable', 'The command bus (Redis) is unavailable, please try again shortly'],
  busLostReply: [
    'timeout',
    'The command bus (Redis) failed while waiting for the answer; the command may have been carried out',
  ],
  databaseDown: ['unavailable', 'The database is unreachable'],
  storageUnavailable: ['unavailable', 'Media storage is unavailable'],
  unknownCommand: ['bad_request', (name: string) => `Unknown command ${name}`],
  internal: ['internal', 'Internal server error'],
} as const satisfies Record<string, readonly [ErrorCode, Message]>

export type ErrorName = keyof typeof Errors

type MessageArgs<N extends ErrorName> = (typeof Errors)[N][1] extends (...args: infer A) => string ? A : []

/** The error named `name`, with its code from the table. */
export const appError = <N extends ErrorName>(name: N, ...args: MessageArgs<N>): AppError => {
  const [code, message] = Errors[name] as readonly [ErrorCode, Message]
  return new AppError(code, typeof message === 'function' ? message(...(args as string[])) : message)
}

/** The messages alone, for code that compares against them (tests, docs). */
export const Messages = Object.fromEntries(
  Object.entries(Errors).map(([name, [, message]]) => [name, message]),
) as { readonly [N in ErrorName]: (typeof Errors)[N][1] }
