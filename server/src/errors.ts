/**
 * Errors that reach an API client carry a stable `code`; this is the one place
 * that maps codes to HTTP status.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  VALIDATION_FAILED: 400,
  UNKNOWN_METRIC: 400,
  METRIC_NOT_NUMERIC: 400,
  RANGE_TOO_LARGE: 400,
  DEAD_LETTER_CURSOR_INVALID: 400,
  RANGE_QUERY_INVALID: 400,
  NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  CONFLICT: 409,
  UNAVAILABLE: 503,
  INTERNAL: 500,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

/** The HTTP status of an error code, when the code is one of ours. */
export function statusOf(code: unknown): number | undefined {
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code) ? ERROR_STATUS[code as ErrorCode] : undefined;
}

export class AppError extends Error {
  constructor(readonly code: ErrorCode, message: string) {
    super(message);
    this.name = 'AppError';
  }

  get statusCode(): number {
    return ERROR_STATUS[this.code];
  }
}
