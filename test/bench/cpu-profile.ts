/**
 * Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and
 * per module (a node_modules package, or a file of ours), busiest first.
 * Also a CLI: `npx tsx test/bench/cpu-profile.ts file.cpuprofile`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

export interface HotSpot { name: string; selfMs: number; percent: number }
export interface ProfileSummary { totalMs: number; busyPercent: number; functions: HotSpot[]; modules: HotSpot[] }

const IDLE = new Set(['(idle)', '(program)']);

export function moduleOf(url: string): string {
  if (url === '') return '(native)';
  const inModules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (inModules) return inModules[1]!;
  const ours = /\/((?:server|simulators|test)\/src\/.*|test\/.*)$/.exec(url);
  if (ours) return ours[1]!;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

export function summariseProfile(profile: Profile, top = 15): ProfileSummary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    totalUs += dt;
  });
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  let idleUs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    if (IDLE.has(frame.functionName)) { idleUs += us; continue; }
    const where = moduleOf(frame.url);
    const name = `${frame.functionName || '(anonymous)'} ${where}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
    modules.set(where, (modules.get(where) ?? 0) + us);
  }
  const rank = (m: Map<string, number>) => [...m]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, us]) => ({ name, selfMs: Math.round(us / 1000), percent: Math.round((us / totalUs) * 1000) / 10 }));
  return { totalMs: Math.round(totalUs / 1000), busyPercent: Math.round(((totalUs - idleUs) / totalUs) * 1000) / 10, functions: rank(functions), modules: rank(modules) };
}

export async function summariseProfileFile(file: string, top?: number): Promise<ProfileSummary> {
  return summariseProfile(JSON.parse(await readFile(file, 'utf8')) as Profile, top);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npx tsx test/bench/cpu-profile.ts <file.cpuprofile>');
    process.exit(2);
  }
  const summary = await summariseProfileFile(file, 25);
  console.log(`total ${summary.totalMs} ms, busy ${summary.busyPercent}%`);
  console.log('\nself time by module:');
  for (const m of summary.modules) console.log(`  ${String(m.percent).padStart(5)}%  ${m.name}`);
  console.log('\nself time by function:');
  for (const f of summary.functions) console.log(`  ${String(f.percent).padStart(5)}%  ${f.name}`);
}
