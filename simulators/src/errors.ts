/** Errors the simulators raise on bad input; `code` is stable, the message says what to fix. */
export type SimErrorCode =
  | 'SIM_BAD_OPTION' // a CLI flag or fleet option with an impossible value
  | 'SIM_EMPTY_SELECTION' // the filter matches no device
  | 'SIM_UNSUPPORTED_DEVICE' // a device whose kind/role has no model
  | 'SIM_UNKNOWN_TIMEZONE'
  | 'SIM_BROKER_UNREACHABLE'
  | 'SIM_STORE_NOT_EMPTY'; // sim:history into a store that already holds readings

export class SimError extends Error {
  constructor(readonly code: SimErrorCode, message: string) {
    super(message);
    this.name = 'SimError';
  }
}
