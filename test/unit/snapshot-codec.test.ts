/** The alarm engine's snapshot as stored: compressed, and read back as the same JSON; plain JSON (older servers) read as it is. */
import { describe, expect, it } from 'vitest';
import { decodeSnapshot, encodeSnapshot } from '../../server/src/adapters/sql/snapshot-codec.ts';

describe('snapshot codec', () => {
  const json = JSON.stringify({ version: 2, detectors: Array.from({ length: 2_000 }, (_, i) => [`EL-A-${i}:elevator.fault`, { since: 1_700_000_000_000 + i, active: i % 3 === 0 }]) });

  it('stores a snapshot compressed and reads back the same JSON', async () => {
    const stored = await encodeSnapshot(json);
    expect(stored.length).toBeLessThan(json.length / 4);
    expect(await decodeSnapshot(stored)).toBe(json);
  });

  it('reads a snapshot stored as plain JSON as it is', async () => {
    expect(await decodeSnapshot(json)).toBe(json);
  });
});
