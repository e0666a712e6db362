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
  // Reports (server/src/domain/reports.ts)
  REPORT_RANGE_INVALID: 400,
  REPORT_TOO_MANY_TICKETS: 400,
  NOT_FOUND: 404,
  DEVICE_NOT_FOUND: 404,
  SCOPE_NOT_FOUND: 404,
  CONFLICT: 409,
  // Alarms (server/src/domain/alarms/alarm-state.ts ALARM_ERROR_CODES)
  ALARM_NOT_FOUND: 404,
  ALARM_NOT_ACTIVE: 409,
  ALARM_ALREADY_ACKNOWLEDGED: 409,
  ALARM_ALREADY_SHELVED: 409,
  ALARM_NOT_SHELVED: 409,
  OPERATOR_REQUIRED: 400,
  SHELVE_REASON_REQUIRED: 400,
  SHELVE_UNTIL_REQUIRED: 400,
  SHELVE_UNTIL_IN_PAST: 400,
  SHELVE_TOO_LONG: 400,
  // Scale-out: the alarm's plot has no owning instance for a moment (plugins/alarms.ts)
  ALARM_OWNER_UNAVAILABLE: 503,
  // Accounts and sessions (server/src/plugins/auth.ts)
  UNAUTHENTICATED: 401,
  SESSION_EXPIRED: 401,
  LOGIN_FAILED: 401,
  FORBIDDEN: 403,
  CSRF_TOKEN_INVALID: 403,
  LOGIN_LOCKED: 429,
  RATE_LIMITED: 429,
  USERNAME_TAKEN: 409,
  LAST_ADMIN: 409,
  USER_NOT_FOUND: 404,
  PASSWORD_REJECTED: 400,
  PASSWORD_INCORRECT: 400,
  UNKNOWN_PLOT: 400,
  // Tickets, callbacks and patrol rounds (server/src/domain/tickets/model.ts TICKET_ERROR_CODES)
  TICKET_NOT_FOUND: 404,
  TICKET_INVALID_TRANSITION: 409,
  TICKET_STALE_VERSION: 409,
  TICKET_NOTE_REQUIRED: 400,
  TICKET_ASSIGNEE_REQUIRED: 400,
  TICKET_ASSIGNEE_UNKNOWN: 400,
  TICKET_NOT_ASSIGNEE: 403,
  TICKET_NOT_VERIFIED: 409,
  TICKET_REPLY_REQUIRED: 409,
  TICKET_NOT_A_LETTER: 409,
  TICKET_ROOM_UNKNOWN: 400,
  TICKET_SOURCE_REQUIRED: 400,
  TICKET_LOCATION_UNKNOWN: 400,
  TICKET_FORBIDDEN: 403,
  CALLBACK_NOT_FOUND: 404,
  CALLBACK_ALREADY_DONE: 409,
  PATROL_ROUND_NOT_FOUND: 404,
  PATROL_ROUND_INVALID_TRANSITION: 409,
  PATROL_CHECKLIST_INVALID: 400,
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
