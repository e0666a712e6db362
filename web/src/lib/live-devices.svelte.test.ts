// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { LiveDevices } from './live-devices.svelte.ts';
import { state } from './testing/fixtures.ts';

/**
 * Lets pending effects run. Svelte flushes effects in a microtask; flushSync
 * cannot be used here because Node resolves 'svelte' to its server entry.
 */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A scheduler the test drives by hand: it records flushes instead of waiting for a frame. */
function manualFrames() {
  const queued: (() => void)[] = [];
  return {
    schedule: (flush: () => void) => void queued.push(flush),
    get queued() { return queued.length; },
    runFrame: () => queued.splice(0).forEach((flush) => flush()),
  };
}

describe('LiveDevices', () => {
  it('applies a burst of updates in one batch on the next frame, latest state per device winning', () => {
    const frames = manualFrames();
    const live = new LiveDevices(frames.schedule, () => 42);
    for (let i = 0; i < 6_000; i++) live.enqueue([state(`D-${i % 3_000}`, i < 3_000 ? 'online' : 'offline', i)]);

    expect(frames.queued).toBe(1);
    expect(live.get('D-0')).toBeUndefined();

    const before = live.states;
    frames.runFrame();
    expect(live.states).not.toBe(before);
    expect(live.states.size).toBe(3_000);
    expect(live.get('D-0')?.status).toBe('offline');
    expect(live.get('D-0')?.seenAt).toBe(3_000);
    expect(live.lastUpdateAt).toBe(42);
  });

  it('schedules the next frame only after the previous one ran', () => {
    const frames = manualFrames();
    const live = new LiveDevices(frames.schedule);
    live.enqueue([state('A', 'online')]);
    frames.runFrame();
    live.enqueue([state('A', 'offline')]);
    expect(frames.queued).toBe(1);
    frames.runFrame();
    expect(live.get('A')?.status).toBe('offline');
  });

  it('leaves the states untouched by an empty update', () => {
    const frames = manualFrames();
    const live = new LiveDevices(frames.schedule);
    const before = live.states;
    live.enqueue([]);
    expect(frames.queued).toBe(0);
    live.flush();
    expect(live.states).toBe(before);
    expect(live.lastUpdateAt).toBeNull();
  });

  it('a snapshot replaces every state and drops updates queued before it', () => {
    const frames = manualFrames();
    const live = new LiveDevices(frames.schedule);
    live.replaceAll([state('A', 'online'), state('B', 'online')]);
    live.enqueue([state('A', 'offline', 500)]);
    live.replaceAll([state('A', 'online', 2_000)]);
    frames.runFrame();
    expect(live.get('A')?.seenAt).toBe(2_000);
    expect(live.get('B')).toBeUndefined();
  });

  it('seeds states from the REST list without overwriting what the socket delivered', () => {
    const frames = manualFrames();
    const live = new LiveDevices(frames.schedule);
    live.replaceAll([state('A', 'offline', 2_000)]);
    live.enqueue([state('B', 'online', 3_000)]);
    live.seed([state('A', 'online', 1_000), state('B', 'unknown', 1_000), state('C', 'unknown', null)]);
    frames.runFrame();
    expect(live.get('A')?.status).toBe('offline');
    expect(live.get('B')?.status).toBe('online');
    expect(live.get('C')?.status).toBe('unknown');
  });

  it('makes effects re-run once per applied batch, not once per update', async () => {
    const frames = manualFrames();
    const live = new LiveDevices(frames.schedule);
    let runs = 0;
    let offline = -1;
    const stop = $effect.root(() => {
      // Like a map marker: a derived over the states, read by an effect.
      const offlineCount = $derived([...live.states.values()].filter((s) => s.status === 'offline').length);
      $effect(() => {
        runs += 1;
        offline = offlineCount;
      });
    });
    await settle();
    expect(runs).toBe(1);

    live.enqueue([state('A', 'offline')]);
    live.enqueue([state('B', 'offline')]);
    live.enqueue([state('C', 'online')]);
    await settle();
    expect(runs).toBe(1);

    frames.runFrame();
    await settle();
    expect(runs).toBe(2);
    expect(offline).toBe(2);
    stop();
  });
});
