/**
 * Keyboard focus after acknowledging: the control that had it (the map's comment form, the
 * list's button) disappears, so the focus moves on with the alarm instead of falling to the page.
 */
import { flushSync, mount, unmount } from 'svelte';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { AlarmView } from '../../../server/src/push/events.ts';
import { AlarmSound } from '../lib/alarm-sound.svelte.ts';
import { AlarmStore } from '../lib/alarms.svelte.ts';
import { I18n } from '../lib/i18n.svelte.ts';
import { alarm } from '../lib/testing/alarms.ts';
import AlarmList from './AlarmList.svelte';
import PlaceAlarms from './PlaceAlarms.svelte';

const acked = (a: AlarmView): AlarmView => ({ ...a, state: 'ack', acknowledged: { by: 'desk', at: 2000, comment: '' } });

/** The server acknowledges whatever it is asked to: the alarm as the store has it, acknowledged (normal if it had returned). */
function acknowledging(store: () => AlarmStore) {
  return async (url: string) => {
    const id = decodeURIComponent(/\/api\/alarms\/(.+)\/ack$/.exec(url)![1]!);
    const before = store().alarms.get(id)!;
    return Response.json(before.state === 'rtn-unack' ? { ...before, state: 'normal', acknowledged: { by: 'desk', at: 2000, comment: '' } } : acked(before));
  };
}

let mounted: ReturnType<typeof mount> | undefined;
afterEach(() => {
  if (mounted) unmount(mounted);
  mounted = undefined;
  document.body.innerHTML = '';
});

function english(): I18n {
  const i18n = new I18n();
  i18n.setLang('en');
  return i18n;
}

function renderPlace(store: AlarmStore): HTMLElement {
  const target = document.body.appendChild(document.createElement('div'));
  mounted = mount(PlaceAlarms, { target, props: { store, place: { kind: 'building', id: 'A-01' }, i18n: english(), timeZone: 'UTC', canAct: true } });
  flushSync();
  return target;
}

const row = (root: HTMLElement, id: string) => root.querySelector<HTMLElement>(`li[data-alarm-id="${id}"]`);

function storeWith(alarms: AlarmView[]): AlarmStore {
  const store: AlarmStore = new AlarmStore(acknowledging(() => store));
  store.replaceAll({ alarms, flooding: [] });
  return store;
}

/** Acknowledges from the map the way a keyboard does: focus in the comment, Enter submits the form. */
function acknowledgeFromComment(root: HTMLElement, id: string): void {
  const input = row(root, id)!.querySelector<HTMLInputElement>('input.comment')!;
  input.focus();
  expect(document.activeElement).toBe(input);
  input.form!.requestSubmit();
}

describe('focus after acknowledging from the map', () => {
  it('moves to the same alarm\'s next action (shelve) when its form goes', async () => {
    const store = storeWith([alarm('EL-A-01-1:fault'), alarm('EL-A-01-2:fault')]);
    const root = renderPlace(store);
    acknowledgeFromComment(root, 'EL-A-01-1:fault');
    await vi.waitFor(() => expect(row(root, 'EL-A-01-1:fault')!.querySelector('form.ack-form')).toBeNull());
    await vi.waitFor(() => expect(document.activeElement).toBe(row(root, 'EL-A-01-1:fault')!.querySelector('button.shelve-open')));
  });

  it('moves to the row that took its place when the acknowledged alarm leaves (it had returned to normal), and to the heading when none is left', async () => {
    const store = storeWith([alarm('EL-A-01-1:fault', { state: 'rtn-unack' }), alarm('EL-A-01-2:fault', { state: 'rtn-unack', lastActiveAt: 900 })]);
    const root = renderPlace(store);
    acknowledgeFromComment(root, 'EL-A-01-1:fault');
    await vi.waitFor(() => expect(row(root, 'EL-A-01-1:fault')).toBeNull());
    await vi.waitFor(() => expect(document.activeElement).toBe(row(root, 'EL-A-01-2:fault')!.querySelector('input.comment')));

    acknowledgeFromComment(root, 'EL-A-01-2:fault');
    await vi.waitFor(() => expect(root.textContent).toContain('No active alarms here.'));
    await vi.waitFor(() => expect(document.activeElement).toBe(root.querySelector('section.place-alarms h3')));
  });

  it('leaves the focus alone when it was elsewhere (a click that does not focus, another field)', async () => {
    const store = storeWith([alarm('EL-A-01-1:fault')]);
    const root = renderPlace(store);
    const elsewhere = document.body.appendChild(document.createElement('input'));
    elsewhere.focus();
    row(root, 'EL-A-01-1:fault')!.querySelector<HTMLButtonElement>('button.ack')!.click();
    await vi.waitFor(() => expect(row(root, 'EL-A-01-1:fault')!.querySelector('button.ack')).toBeNull());
    flushSync();
    expect(document.activeElement).toBe(elsewhere);
  });
});

describe('focus after acknowledging in the alarm list', () => {
  it('moves from the vanished button to the alarm\'s shelve button', async () => {
    const store = storeWith([alarm('EL-A-01-1:fault', { priority: 1 }), alarm('EL-A-02-1:fault', { buildingId: 'A-02' })]);
    const target = document.body.appendChild(document.createElement('div'));
    mounted = mount(AlarmList, { target, props: { alarms: store, sound: new AlarmSound(), i18n: english(), timeZone: 'UTC', canAct: true } });
    flushSync();
    const ack = row(target, 'EL-A-01-1:fault')!.querySelector<HTMLButtonElement>('button.ack')!;
    ack.focus();
    ack.click();
    await vi.waitFor(() => expect(row(target, 'EL-A-01-1:fault')!.querySelector('button.ack')).toBeNull());
    await vi.waitFor(() => expect(document.activeElement).toBe(row(target, 'EL-A-01-1:fault')!.querySelector('button.shelve-open')));
  });
});
