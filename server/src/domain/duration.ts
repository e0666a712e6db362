const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** Parses '15m', '1h', '7d', '2w' or a whole number of milliseconds; null when it is neither. */
export function parseDuration(text: string): number | null {
  const match = /^(\d+)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = match[2];
  if (unit === undefined || unit === 'ms') return amount;
  return amount * UNIT_MS[unit as keyof typeof UNIT_MS];
}

/** Parses an ISO-8601 time or epoch milliseconds; null when it is neither. */
export function parseTime(text: string): number | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const ms = Date.parse(trimmed);
  return Number.isNaN(ms) ? null : ms;
}
