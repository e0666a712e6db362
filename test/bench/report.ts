/** The bench's figures as plain-text tables, with the issue's targets next to them. */
import type { IngestResult } from './ingest.ts';
import type { EngineResult } from './run.ts';
import { round1, type Percentiles } from './stats.ts';

function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const pct = (p: Percentiles | null) => (p ? `${p.p50} / ${p.p95} / ${p.p99} (n=${p.n})` : 'n/a');
const med = (p: Percentiles | null) => (p ? `p50 ${p.p50}, p95 ${p.p95}, max ${p.max} (n=${p.n})` : 'n/a');

/** Every message the broker acknowledged and did not drop at its queue limit was accepted and stored. */
function droppedOnlyByBroker(totals: IngestResult['totals']): boolean {
  return totals.brokerDropped !== null && totals.rowsInTable === totals.accepted && totals.sent - totals.accepted === totals.brokerDropped;
}

export function formatReport(results: readonly EngineResult[], quick: boolean): string {
  const out: string[] = [`EstateWatch bench (${quick ? 'QUICK: short steps, 2 days of history' : 'full'})`];
  for (const r of results) {
    out.push('', `=== ${r.engine === 'embedded' ? 'embedded: aedes + PGlite' : 'real: Mosquitto + PostgreSQL'} ===`, `broker: ${r.broker}`);
    for (const [phase, error] of Object.entries(r.errors)) out.push(`!! ${phase} failed: ${error}`);

    if (r.ingest) {
      const i = r.ingest;
      out.push('', `Ingest (${i.engine}); target ≥ ${r.engine === 'real' ? '20,000' : '10,000'} msgs/s with nothing lost`);
      out.push(table(
        ['offered/s', 'sent/s', 'accepted/s', 'written/s', 'backlog max', 'growth/s', 'srv CPU%', 'gen CPU%', 'RSS MB', 'loop p99 ms', 'frames', 'drain ms', 'verdict'],
        i.steps.map((s) => [s.offered, s.sent, s.accepted, s.written, s.backlogMax, s.backlogGrowth, s.serverCpuPercent, s.generatorCpuPercent, s.rssMb, s.loopDelayP99Ms, s.pushFrames, s.drainMs, s.verdict]),
      ));
      out.push(`sustained: ${i.saturationOffered === null ? 'no step' : `${i.saturationOffered}/s offered, ${i.ingestMsgsPerS} rows/s written`}; ` +
        `totals: sent ${i.totals.sent}, accepted ${i.totals.accepted}, rows ${i.totals.rowsInTable} → ${i.totals.nothingLost ? 'nothing lost'
          : droppedOnlyByBroker(i.totals) ? `${i.totals.brokerDropped} dropped by Mosquitto at its queue limit, every other message stored` : 'NOT all accounted'}`);
      const brokerDrops = i.steps.filter((s) => (s.brokerDropped ?? 0) > 0);
      if (brokerDrops.length > 0) {
        out.push(`Mosquitto dropped QoS-1 messages at its queue limit (max_queued_messages per session) in ${brokerDrops.map((s) => `the ${s.offered}/s step: ${s.brokerDropped}`).join(', ')}`);
      }
      if (i.profile) {
        out.push(`CPU profile of the server (${i.cpuProfile}): busy ${i.profile.busyPercent}% of ${i.profile.totalMs} ms`);
        out.push(table(['self %', 'module'], i.profile.modules.slice(0, 10).map((m) => [m.percent, m.name])));
        out.push(table(['self %', 'function'], i.profile.functions.slice(0, 12).map((f) => [f.percent, f.name])));
      }
    }

    if (r.latency) {
      const { idle, underLoad } = r.latency;
      const title = idle.kind === 'alarm' ? 'Alarm latency' : 'Push latency (NOT alarm latency: no alarms plugin)';
      out.push('', `${title}, ms p50 / p95 / p99; target (alarm → ticket) p50 ≤ 10, p99 ≤ 100 under 5,000 msgs/s`);
      out.push(`  measures: ${idle.measures}`);
      out.push(table(['', 'first event', 'ticket', 'timeouts'], [
        ['idle', pct(idle.first), pct(idle.ticket), idle.timeouts],
        [`under ${underLoad.backgroundRate}/s (accepted ≈${underLoad.backgroundAccepted}/s)`, pct(underLoad.first), pct(underLoad.ticket), underLoad.timeouts],
      ]));
    }

    if (r.normalLoad) {
      out.push('', 'Event-loop delay at the estate\'s normal load (simulated fleet); target p99 ≤ 20 ms');
      out.push(table(['fleet speed', 'msgs/s', 'loop p99 ms', 'loop max ms', 'srv CPU%', 'fleet lag ms'],
        r.normalLoad.map((n) => [`${n.speed}x`, n.msgsPerS, n.loopDelayP99Ms, n.loopDelayMaxMs, n.serverCpuPercent, n.fleetLagMs])));
      for (const n of r.normalLoad) {
        if (!n.profile) continue;
        out.push(`CPU profile of the server, fleet at ${n.speed}x (${n.cpuProfile}): busy ${n.profile.busyPercent}% of ${n.profile.totalMs} ms`);
        out.push(table(['self %', 'function'], n.profile.functions.slice(0, 12).map((f) => [f.percent, f.name])));
      }
    }

    if (r.browser) {
      const b = r.browser;
      const ms = (p: Percentiles | null) => (p ? `${p.p50} / ${p.p95} / ${p.p99} / ${p.max}` : 'n/a');
      const stages = [['idle (nothing reports)', b.idle], [`every device reports (${b.fleet.publishedPerS} msgs/s)`, b.everyDevice]] as const;
      out.push('', `Browser: the control room in ${b.chromium} at ${b.viewport}, logged in as an operator; ms p50 / p95 / p99 / max`);
      out.push(`  first map: navigation start → first frame with all ${b.expected.buildings} buildings and ${b.expected.markers} markers drawn (cold reloads, ${b.idle.firstMap.runs.length} each); ` +
        `data → map: after the last byte of /api/devices`);
      out.push(`  every device reports: the fleet's ${b.fleet.devices} devices each every ${b.fleet.intervalS} s (lag ${b.fleet.lagMs} ms)`);
      out.push(table(['first map', 'ms', 'page CPU ms (script)', 'last run: TTFB / DCL / FCP / data', '/api/devices', 'data → map ms', 'target'], stages.map(([label, s]) => {
        const last = s.firstMap.runs.at(-1);
        const dataToMap = last && last.devicesApiEndMs !== null ? round1(last.mapMs - last.devicesApiEndMs) : 'n/a';
        const cpu = s.firstMap.mainThreadCpuMs;
        return [label, ms(s.firstMap.ms), `p50 ${cpu?.p50 ?? 'n/a'}, max ${cpu?.max ?? 'n/a'} (${last?.scriptCpuMs ?? 'n/a'})`,
          last ? `${last.responseStartMs} / ${last.domContentLoadedMs} / ${last.firstContentfulPaintMs ?? 'n/a'} / ${last.devicesApiEndMs ?? 'n/a'}` : 'n/a',
          `${last?.devicesApiMs ?? 'n/a'} ms, ${last?.devicesApiKb ?? 'n/a'} KB`, dataToMap, 'well under 1,000–2,000'];
      })));
      out.push(table([`frames over ${b.idle.frames.seconds} s`, 'frame ms', 'dropped', 'long tasks', 'main thread CPU ms/s', 'heap MB', 'server loop p99 / max, CPU%', 'target'], stages.map(([label, s]) => {
        const f = s.frames;
        return [label, ms(f.frameMs), f.droppedFrames, `${f.longTasks.count} (${f.longTasks.totalMs} ms, max ${f.longTasks.maxMs})`,
          `${f.mainThreadMsPerS.task} (script ${f.mainThreadMsPerS.script}, layout ${f.mainThreadMsPerS.layout}, style ${f.mainThreadMsPerS.style})`, f.jsHeapMb,
          `${s.server.loopP99Ms} / ${s.server.loopMaxMs}, ${s.server.cpuPercent}%`, 'p95 ≤ 16.7'];
      })));
      for (const [label, s] of stages) {
        const loaf = s.frames.longAnimationFrames;
        if (loaf.count > 0) out.push(`  long animation frames, ${label}: ${loaf.count} (max ${loaf.maxMs} ms); most script time: ${loaf.topScripts.map((t) => `${t.script} ${t.ms} ms`).join('; ') || 'none'}`);
      }
      if (b.pageErrors.length > 0) out.push(`  !! page errors: ${b.pageErrors.join(' | ')}`);
      if (b.screenshot) out.push(`  screenshot: ${b.screenshot}`);
    }

    if (r.soak) {
      const s = r.soak;
      out.push('', `Memory soak: fleet at ${s.speed}x (${s.msgsPerS} msgs/s ≈ 10 estates) for ${s.seconds} s; target flat`);
      out.push(`  RSS MB start ${s.rssMb.start}, end ${s.rssMb.end}, max ${s.rssMb.max}, slope ${s.rssMb.slopeMbPerMin} MB/min; ` +
        `heap MB start ${s.heapUsedMb.start}, end ${s.heapUsedMb.end}, slope ${s.heapUsedMb.slopeMbPerMin} MB/min (${s.samples} samples)`);
    }

    if (r.trends) {
      const t = r.trends;
      out.push('', `Trend queries (${t.engine}) over ${t.days} days of every meter, hourly${t.days < 90 ? ' (QUICK: not the 90 days of the target)' : ''}; ms`);
      out.push(`  history: ${t.load.rows} rows in ${t.load.seconds} s (${t.load.writeSeconds} s in store.write, ${t.load.rowsPerS} rows/s); ` +
        `rolled up by store.refresh() in ${t.rollup.seconds} s (${t.rollup.rowsPerS} rows/s)`);
      out.push(table(['query', 'ms', 'target'], [
        ['device week, hourly', med(t.deviceWeekHourly), 'p95 ≤ 50'],
        ['device year, daily', med(t.deviceYearDaily), '—'],
        [`plot ${t.plot.id} month, hourly (${t.plot.meters} meters)`, med(t.plotMonthHourly), '≤ 100'],
        [`plot ${t.plot.id} year, daily (${t.plot.meters} meters)`, med(t.plotYearDaily), '≤ 100'],
        [`plot ${t.plot.id} month, hourly, with the open hour raw`, med(t.plotMonthHourlyLive), '≤ 100'],
      ]));
      out.push(`  plot totals: ${t.plotMethod}`);
    }
  }
  return out.join('\n');
}
