/**
 * When an MQTT message may be acknowledged to the broker: once what it carried
 * is stored (README "Fault tolerance"). The ingest subscriber asks it
 * (adapters/mqtt/ingest-subscriber.ts); services/write-watermark.ts answers
 * from the store writers.
 */

/** Each store writer's position when some messages had been handled. */
export type AckMark = readonly number[];

export interface AckGate {
  /** Whether acknowledgements wait for the writes now; false while a store fails or lags: on receipt. */
  holding(): boolean;
  /** A mark covering everything handed to the stores so far. */
  mark(): AckMark;
  reached(mark: AckMark): boolean;
  /** Calls `listener` whenever a write ends (a mark may be reached, or holding may have stopped); returns the function that stops it. */
  onProgress(listener: () => void): () => void;
  /** Counts acknowledgements sent: `stored`, after the write; otherwise on receipt. */
  acknowledged(count: number, stored: boolean): void;
}

/** Acknowledges every message on receipt (for a handler that stores nothing). */
export const ACK_ON_RECEIPT: AckGate = {
  holding: () => false,
  mark: () => [],
  reached: () => true,
  onProgress: () => () => {},
  acknowledged: () => {},
};
