import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlarmView } from '../../../server/src/push/events.ts';
import { AlarmStore } from '../lib/alarms.svelte.ts';
import { I18n } from '../lib/i18n.svelte.ts';
import { alarm } from '../lib/testing/alarms.ts';
import PlaceAlarms from './PlaceAlarms.svelte';

const SHELVED = alarm('EL-A-01-2:fault', { priority: 3, annunciated: false, shelved: { by: 'op', at: 1, until: 3_600_000, reason: 'lift contractor on site' } });

/** The server's answers, in order; every request is recorded. */
function server(answers: AlarmView[]) {
  const calls: { url: string; body: unknown }[] = [];
  const fetchFn = async (url: string, init?: RequestInit) => {
    calls.push({ url, body: JSON.parse(String(init?.body)) });
    return Response.json(answers.shift());
  };
  return { calls, fetchFn };
}

let mounted: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = undefined;
  document.body.innerHTML = '';
});

function render(store: AlarmStore, canAct = true): HTMLElement {
  const target = document.body.appendChild(document.createElement('div'));
  const i18n = new I18n();
  i18n.setLang('en');
  mounted = mount(PlaceAlarms, { target, props: { store, place: { kind: 'building', id: 'A-01' }, i18n, timeZone: 'UTC', canAct } });
  flushSync();
  return target;
}

function type(input: HTMLInputElement | HTMLSelectElement, value: string): void {
  input.value = value;
  input.dispatchEvent(new Event(input instanceof HTMLSelectElement ? 'change' : 'input', { bubbles: true }));
}

const row = (root: HTMLElement, id: string) => root.querySelector<HTMLElement>(`li[data-alarm-id="${id}"]`)!;

describe('PlaceAlarms: acting on a building\'s alarms from the map', () => {
  it('lists the place\'s alarms, listed before shelved, and acknowledges one with a comment', async () => {
    const { calls, fetchFn } = server([alarm('EL-A-01-1:fault', { state: 'ack', acknowledged: { by: 'desk', at: 2000, comment: 'engineer called' } })]);
    const store = new AlarmStore(fetchFn);
    store.replaceAll({ alarms: [SHELVED, alarm('EL-A-01-1:fault'), alarm('EL-A-02-1:fault', { buildingId: 'A-02' })], flooding: [] });
    const root = render(store);

    expect([...root.querySelectorAll('li')].map((li) => li.dataset.alarmId)).toEqual(['EL-A-01-1:fault', 'EL-A-01-2:fault']);
    expect(root.querySelector('h3')!.textContent).toContain('2');
    const first = row(root, 'EL-A-01-1:fault');
    expect(first.classList.contains('unack')).toBe(true);

    type(first.querySelector<HTMLInputElement>('input.comment')!, ' engineer called ');
    first.querySelector<HTMLButtonElement>('button.ack')!.click();
    await vi.waitFor(() => expect(row(root, 'EL-A-01-1:fault').classList.contains('unack')).toBe(false));
    flushSync();
    expect(calls).toEqual([{ url: '/api/alarms/EL-A-01-1%3Afault/ack', body: { comment: 'engineer called' } }]);
    expect(row(root, 'EL-A-01-1:fault').textContent).toContain('acknowledged by desk');
    expect(row(root, 'EL-A-01-1:fault').querySelector('button.ack')).toBeNull();
  });

  it('shelves only with a reason, for the chosen time, and unshelves', async () => {
    const { calls, fetchFn } = server([
      alarm('EL-A-01-1:fault', { annunciated: false, shelved: { by: 'desk', at: 2000, until: 4 * 3_600_000, reason: 'door test' } }),
      { ...SHELVED, annunciated: true, shelved: null },
    ]);
    const store = new AlarmStore(fetchFn);
    store.replaceAll({ alarms: [SHELVED, alarm('EL-A-01-1:fault')], flooding: [] });
    const root = render(store);

    const first = row(root, 'EL-A-01-1:fault');
    const open = first.querySelector<HTMLButtonElement>('button.shelve-open')!;
    open.click();
    flushSync();
    expect(open.getAttribute('aria-expanded')).toBe('true');
    const form = first.querySelector<HTMLFormElement>('form.shelve')!;
    const reason = form.querySelector<HTMLInputElement>('input[name=reason]')!;
    // Empty, the browser's own validation stops it; blank, ours does.
    form.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    expect(reason.validity.valueMissing).toBe(true);
    type(reason, '   ');
    form.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    flushSync();
    expect(first.querySelector('[role=alert]')!.textContent).toBe('Shelving needs a reason.');
    expect(calls).toEqual([]);

    type(reason, 'door test');
    type(form.querySelector<HTMLSelectElement>('select[name=minutes]')!, '240');
    form.querySelector<HTMLButtonElement>('button[type=submit]')!.click();
    await vi.waitFor(() => expect(row(root, 'EL-A-01-1:fault').textContent).toContain('shelved until 04:00:00'));
    expect(calls[0]).toEqual({ url: '/api/alarms/EL-A-01-1%3Afault/shelve', body: { reason: 'door test', minutes: 240 } });

    row(root, 'EL-A-01-2:fault').querySelector<HTMLButtonElement>('button.unshelve')!.click();
    await vi.waitFor(() => expect(row(root, 'EL-A-01-2:fault').querySelector('button.unshelve')).toBeNull());
    expect(calls[1]).toEqual({ url: '/api/alarms/EL-A-01-2%3Afault/unshelve', body: {} });
  });

  it('shows a refusal with its code, offers no actions to roles that may not act, and says when nothing is wrong here', async () => {
    const store = new AlarmStore(async () => Response.json({ code: 'ALARM_NOT_ACTIVE', message: 'normal' }, { status: 409 }));
    store.replaceAll({ alarms: [alarm('EL-A-01-1:fault')], flooding: [] });
    let root = render(store);
    row(root, 'EL-A-01-1:fault').querySelector<HTMLButtonElement>('button.ack')!.click();
    await vi.waitFor(() => expect(root.querySelector('[role=alert]')?.textContent).toBe('Action failed (ALARM_NOT_ACTIVE)'));

    unmount(mounted!);
    root = render(store, false);
    expect(root.querySelector('button')).toBeNull();
    expect(row(root, 'EL-A-01-1:fault').textContent).toContain('Fault EL-A-01-1:fault');

    unmount(mounted!);
    store.replaceAll({ alarms: [], flooding: [] });
    root = render(store);
    expect(root.textContent).toContain('No active alarms here.');
  });
});
