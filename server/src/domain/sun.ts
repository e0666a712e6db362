/**
 * Sunrise and sunset by the standard sunrise equation (NOAA / Meeus, simplified):
 * accurate to a minute or two at the latitudes of inhabited China, which is
 * what a street-light controller's astronomical clock does. Shared by the
 * simulators (street lights switch by it) and the alarm rules (lights must be
 * on at night and off by day).
 */

const RAD = Math.PI / 180;
const J2000 = 2451545;
const DAY_MS = 86_400_000;
const UNIX_EPOCH_JD = 2440587.5;

export type SunTimes =
  | { readonly kind: 'normal'; readonly sunriseMs: number; readonly sunsetMs: number }
  | { readonly kind: 'polar-day' | 'polar-night' };

/**
 * Sunrise and sunset of the local day whose noon is `localNoonMs` (epoch ms),
 * at `latitude` (north positive) and `longitude` (east positive).
 */
export function sunTimes(localNoonMs: number, latitude: number, longitude: number): SunTimes {
  const jdNoon = localNoonMs / DAY_MS + UNIX_EPOCH_JD;
  const n = Math.round(jdNoon - J2000 + longitude / 360);
  const meanNoon = n - longitude / 360;
  const m = (357.5291 + 0.98560028 * meanNoon) % 360;
  const centre = 1.9148 * Math.sin(m * RAD) + 0.02 * Math.sin(2 * m * RAD) + 0.0003 * Math.sin(3 * m * RAD);
  const eclipticLongitude = (m + centre + 180 + 102.9372) % 360;
  const transit = J2000 + meanNoon + 0.0053 * Math.sin(m * RAD) - 0.0069 * Math.sin(2 * eclipticLongitude * RAD);
  const sinDecl = Math.sin(eclipticLongitude * RAD) * Math.sin(23.4397 * RAD);
  const cosDecl = Math.cos(Math.asin(sinDecl));
  // -0.833°: refraction plus the sun's radius, the usual definition of rise and set.
  const cosHourAngle = (Math.sin(-0.833 * RAD) - Math.sin(latitude * RAD) * sinDecl) / (Math.cos(latitude * RAD) * cosDecl);
  if (cosHourAngle > 1) return { kind: 'polar-night' };
  if (cosHourAngle < -1) return { kind: 'polar-day' };
  const halfDay = Math.acos(cosHourAngle) / RAD / 360;
  const toMs = (jd: number) => Math.round((jd - UNIX_EPOCH_JD) * DAY_MS);
  return { kind: 'normal', sunriseMs: toMs(transit - halfDay), sunsetMs: toMs(transit + halfDay) };
}

/**
 * Whether `ts` falls between sunset and sunrise at the place. The day is the
 * local solar day (midnight to midnight by the longitude), so no time zone is
 * needed and the answer is right even where civil time runs far from the sun.
 */
export function isNightAt(ts: number, latitude: number, longitude: number): boolean {
  const offsetMs = (longitude / 360) * DAY_MS;
  const solarMidnight = Math.floor((ts + offsetMs) / DAY_MS) * DAY_MS - offsetMs;
  const sun = sunTimes(solarMidnight + DAY_MS / 2, latitude, longitude);
  if (sun.kind !== 'normal') return sun.kind === 'polar-night';
  return ts < sun.sunriseMs || ts >= sun.sunsetMs;
}
