/** The site's wall-clock calendar (its IANA time zone): rosters and patrol rounds are planned in local time. */

export interface LocalTime {
  /** 'YYYY-MM-DD' in the site's time zone. */
  readonly date: string;
  /** ISO weekday: 1 = Monday … 7 = Sunday. */
  readonly weekday: number;
  /** Minutes since local midnight. */
  readonly minutes: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timezone, f);
  }
  return f;
}

function fields(ts: number, timezone: string): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const parts = Object.fromEntries(formatter(timezone).formatToParts(new Date(ts)).map((p) => [p.type, p.value]));
  return { y: Number(parts.year), mo: Number(parts.month), d: Number(parts.day), h: Number(parts.hour), mi: Number(parts.minute), s: Number(parts.second) };
}

export function localTime(ts: number, timezone: string): LocalTime {
  const f = fields(ts, timezone);
  const weekday = new Date(Date.UTC(f.y, f.mo - 1, f.d)).getUTCDay();
  return { date: `${f.y}-${String(f.mo).padStart(2, '0')}-${String(f.d).padStart(2, '0')}`, weekday: weekday === 0 ? 7 : weekday, minutes: f.h * 60 + f.mi };
}

/** The instant of `minutes` after local midnight of `date` in the time zone. */
export function atLocal(date: string, minutes: number, timezone: string): number {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  const wanted = Date.UTC(y, mo - 1, d, 0, minutes);
  let guess = wanted;
  // Two rounds settle the zone offset (also across a DST change).
  for (let i = 0; i < 2; i++) {
    const f = fields(guess, timezone);
    guess += wanted - Date.UTC(f.y, f.mo - 1, f.d, f.h, f.mi, f.s);
  }
  return guess;
}

/** The local date `days` after `date`. */
export function addDays(date: string, days: number): string {
  const [y, mo, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, mo - 1, d + days)).toISOString().slice(0, 10);
}
