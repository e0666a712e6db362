/**
 * `npm start`'s prestart: rebuilds web/dist when it is missing or older than
 * any of its sources, so that the server always serves the current web app.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const repoDir = fileURLToPath(new URL('..', import.meta.url));
const webDir = join(repoDir, 'web');
const builtIndex = join(webDir, 'dist', 'index.html');

/** Everything the bundle is made from, including the server files it imports. */
const SOURCES = [
  join(webDir, 'src'),
  join(webDir, 'index.html'),
  join(webDir, 'vite.config.ts'),
  join(repoDir, 'server/src/routes/api-types.ts'),
  join(repoDir, 'server/src/push/events.ts'),
  join(repoDir, 'server/src/catalogue/kinds.ts'),
];

function mtimeMs(path: string): number | null {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest file under `path` (itself when it is a file), or null when it does not exist. */
function newestFile(path: string): { path: string; mtimeMs: number } | null {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    return null;
  }
  if (!stat.isDirectory()) return { path, mtimeMs: stat.mtimeMs };
  let newest: { path: string; mtimeMs: number } | null = null;
  for (const entry of readdirSync(path)) {
    const candidate = newestFile(join(path, entry));
    if (candidate && (!newest || candidate.mtimeMs > newest.mtimeMs)) newest = candidate;
  }
  return newest;
}

function staleReason(): string | null {
  const builtAt = mtimeMs(builtIndex);
  if (builtAt === null) return `${relative(repoDir, builtIndex)} is missing`;
  for (const source of SOURCES) {
    const newest = newestFile(source);
    if (newest && newest.mtimeMs > builtAt) return `${relative(repoDir, newest.path)} is newer than the build`;
  }
  return null;
}

const reason = staleReason();
if (reason === null) {
  console.log('web app is up to date');
} else {
  console.log(`building the web app: ${reason}`);
  await build({ configFile: join(webDir, 'vite.config.ts'), logLevel: 'warn' });
  console.log(`web app built into ${relative(repoDir, join(webDir, 'dist'))}`);
}
