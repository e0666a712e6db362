// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { I18n } from './i18n.svelte.ts';
import type { LangStorage } from './i18n.svelte.ts';

function memoryStorage(initial: Record<string, string> = {}): LangStorage & { data: Record<string, string> } {
  const data = { ...initial };
  return { data, getItem: (key) => data[key] ?? null, setItem: (key, value) => void (data[key] = value) };
}

describe('I18n', () => {
  it('speaks Simplified Chinese by default and English after the toggle, remembering the choice', () => {
    const storage = memoryStorage();
    const i18n = new I18n(storage);
    expect(i18n.t('status.offline')).toBe('离线');
    expect(i18n.kind('booster-pump')).toBe('生活水泵');
    i18n.toggle();
    expect(i18n.t('status.offline')).toBe('offline');
    expect(i18n.kind('booster-pump')).toBe('Booster pump');
    expect(new I18n(storage).lang).toBe('en');
  });

  it('ignores a stored value that is not a language', () => {
    expect(new I18n(memoryStorage({ 'estatewatch.lang': 'fr' })).lang).toBe('zh');
  });

  it('fills placeholders and leaves unknown ones visible', () => {
    const i18n = new I18n();
    expect(i18n.t('panel.building', { id: 'A-03' })).toBe('楼栋 A-03');
    expect(i18n.t('panel.building')).toBe('楼栋 {id}');
  });

  it('labels metrics from the catalogue and falls back to the metric key', () => {
    const i18n = new I18n();
    expect(i18n.metric('fire-pump', 'pressure_mpa')).toBe('出口压力');
    expect(i18n.metric('fire-pump', 'mystery')).toBe('mystery');
  });

  it('says how long ago something happened', () => {
    const i18n = new I18n();
    i18n.setLang('en');
    expect(i18n.ago(0, 12_400)).toBe('12 s ago');
    expect(i18n.ago(0, 180_000)).toBe('3 min ago');
    expect(i18n.ago(0, 7_200_000)).toBe('2 h ago');
    expect(i18n.ago(0, 3 * 86_400_000)).toBe('3 d ago');
  });

  it('formats times in the site time zone', () => {
    const i18n = new I18n();
    expect(i18n.time(Date.UTC(2025, 0, 1, 0, 5, 9), 'Asia/Shanghai')).toBe('08:05:09');
  });
});

describe('metric values', () => {
  it('translates every word a string metric can take; unknown words pass through', async () => {
    const { KINDS } = await import('../../../server/src/catalogue/kinds.ts');
    const words = Object.values(KINDS).flatMap((kind) => Object.values(kind.metrics).flatMap((def) => def.values ?? []));
    expect(words).toEqual(expect.arrayContaining(['standby', 'running', 'up', 'down', 'open', 'closed']));
    const zh = new I18n();
    for (const word of words) expect(zh.value(word), word).toMatch(/[\u4e00-\u9fff]/);
    const en = new I18n();
    en.setLang('en');
    expect(words.map((word) => en.value(word))).toEqual(words);
    expect(zh.value('a-new-state')).toBe('a-new-state');
  });

  it('formats booleans and numbers in the locale', () => {
    const zh = new I18n();
    expect(zh.value(true)).toBe('是');
    expect(zh.value(1234.5)).toBe('1,234.5');
    expect(zh.number(2.345678, 1)).toBe('2.3');
  });

  it('formats with the language, time zone and precision of each call, before and after a switch', () => {
    const i18n = new I18n();
    const at = Date.UTC(2025, 0, 1, 0, 5, 9);
    expect(i18n.number(2.345678, 1)).toBe('2.3');
    expect(i18n.number(2.345678, 2)).toBe('2.35');
    expect(i18n.time(at, 'Asia/Shanghai')).toBe('08:05:09');
    expect(i18n.time(at, 'Europe/London')).toBe('00:05:09');
    expect(i18n.date('2025-01-01')).toContain('周三');
    i18n.setLang('en');
    expect(i18n.date('2025-01-01')).toContain('Wed');
    expect(i18n.number(1234.5678, 1)).toBe('1,234.6');
    i18n.setLang('zh');
    expect(i18n.date('2025-01-01')).toContain('周三');
  });
});
