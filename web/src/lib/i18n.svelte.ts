/**
 * A tiny dictionary: Simplified Chinese by default, English on request. Device
 * kind and metric labels come from the catalogue (KINDS), not from here.
 */
import { KINDS } from '../../../server/src/catalogue/kinds.ts';
import type { DeviceKind } from '../../../server/src/catalogue/kinds.ts';
import type { DeviceRole } from '../../../server/src/catalogue/types.ts';
import type { LiveStatus } from '../../../server/src/push/events.ts';

export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const zh = {
  'app.title': '蓝谷地 · 监控中心',
  'app.langToggle': 'English',
  'app.langToggleLabel': '切换到英文',
  'conn.connecting': '正在连接',
  'conn.connected': '实时',
  'conn.reconnecting': '正在重连',
  'conn.offline': '离线',
  'conn.dataAsOf': '数据截至 {time}',
  'status.online': '在线',
  'status.offline': '离线',
  'status.unknown': '无数据',
  'load.loading': '正在加载站点…',
  'load.error': '站点加载失败：{message}',
  'load.retry': '重试',
  'load.empty': '目录中没有设备。',
  'counts.title': '设备统计',
  'counts.total': '合计',
  'counts.ingest': '接收',
  'counts.accepted': '已接收',
  'counts.rejected': '已拒收',
  'counts.noHealth': '健康状态不可用',
  'map.title': '总览地图',
  'map.plot': '地块 {id}',
  'map.building': '楼栋 {id}',
  'map.offlineCount': '{n} 台离线',
  'legend.normal': '正常',
  'legend.unknown': '无数据',
  'legend.offline': '离线',
  'legend.selected': '已选',
  'panel.building': '楼栋 {id}',
  'panel.plotOutside': '地块 {id} · 楼栋外设备',
  'panel.floors': '{floors} 层 · {households} 户 · {elevators} 部电梯',
  'panel.close': '关闭',
  'panel.noDevices': '无设备',
  'panel.offlineMeters': '离线表计',
  'panel.moreHidden': '另有 {n} 台未列出',
  'panel.hint': '点击楼栋或设备查看详情',
  'detail.close': '关闭',
  'detail.status': '状态',
  'detail.lastSeen': '最后通信',
  'detail.eventTime': '读数时间',
  'detail.never': '从未',
  'detail.values': '最新读数',
  'detail.noValues': '尚无读数',
  'detail.location': '位置',
  'detail.role': '用途',
  'time.secondsAgo': '{n} 秒前',
  'time.minutesAgo': '{n} 分钟前',
  'time.hoursAgo': '{n} 小时前',
  'time.daysAgo': '{n} 天前',
  'value.true': '是',
  'value.false': '否',
  'role.household': '住户',
  'role.shop': '商铺',
  'role.building': '楼栋公共',
  'role.pump-room': '泵房',
  'role.plot-inlet': '地块进水',
  'role.plot-main': '地块总表',
  'role.fire-pump-room': '消防泵房',
  'role.duty': '主用',
  'role.assist': '辅助',
  'role.standby': '备用',
  'role.electric': '电动',
  'role.jockey': '稳压',
  'role.diesel': '柴油',
  'role.site': '全站',
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  'app.title': 'Blue Valley · Control room',
  'app.langToggle': '中文',
  'app.langToggleLabel': 'Switch to Chinese',
  'conn.connecting': 'Connecting',
  'conn.connected': 'Live',
  'conn.reconnecting': 'Reconnecting',
  'conn.offline': 'Offline',
  'conn.dataAsOf': 'data as of {time}',
  'status.online': 'online',
  'status.offline': 'offline',
  'status.unknown': 'no data',
  'load.loading': 'Loading the site…',
  'load.error': 'Could not load the site: {message}',
  'load.retry': 'Retry',
  'load.empty': 'The catalogue has no devices.',
  'counts.title': 'Devices',
  'counts.total': 'Total',
  'counts.ingest': 'Ingest',
  'counts.accepted': 'accepted',
  'counts.rejected': 'rejected',
  'counts.noHealth': 'health unavailable',
  'map.title': 'Estate overview',
  'map.plot': 'Plot {id}',
  'map.building': 'Building {id}',
  'map.offlineCount': '{n} offline',
  'legend.normal': 'normal',
  'legend.unknown': 'no data',
  'legend.offline': 'offline',
  'legend.selected': 'selected',
  'panel.building': 'Building {id}',
  'panel.plotOutside': 'Plot {id} · outside buildings',
  'panel.floors': '{floors} floors · {households} households · {elevators} elevators',
  'panel.close': 'Close',
  'panel.noDevices': 'No devices',
  'panel.offlineMeters': 'Offline meters',
  'panel.moreHidden': '{n} more not listed',
  'panel.hint': 'Click a building or a device for details',
  'detail.close': 'Close',
  'detail.status': 'Status',
  'detail.lastSeen': 'Last seen',
  'detail.eventTime': 'Reading time',
  'detail.never': 'never',
  'detail.values': 'Latest values',
  'detail.noValues': 'No readings yet',
  'detail.location': 'Location',
  'detail.role': 'Role',
  'time.secondsAgo': '{n} s ago',
  'time.minutesAgo': '{n} min ago',
  'time.hoursAgo': '{n} h ago',
  'time.daysAgo': '{n} d ago',
  'value.true': 'yes',
  'value.false': 'no',
  'role.household': 'household',
  'role.shop': 'shop',
  'role.building': 'building common',
  'role.pump-room': 'pump room',
  'role.plot-inlet': 'plot inlet',
  'role.plot-main': 'plot main',
  'role.fire-pump-room': 'fire pump room',
  'role.duty': 'duty',
  'role.assist': 'assist',
  'role.standby': 'standby',
  'role.electric': 'electric',
  'role.jockey': 'jockey',
  'role.diesel': 'diesel',
  'role.site': 'site',
};

const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { zh, en };
const STORAGE_KEY = 'estatewatch.lang';

/** Where the chosen language is remembered between visits (localStorage in the browser). */
export interface LangStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function isLang(value: unknown): value is Lang {
  return (LANGS as readonly unknown[]).includes(value);
}

export class I18n {
  lang = $state<Lang>('zh');
  readonly #storage: LangStorage | null;

  constructor(storage: LangStorage | null = null) {
    this.#storage = storage;
    const saved = storage?.getItem(STORAGE_KEY);
    if (isLang(saved)) this.lang = saved;
  }

  /** The BCP 47 tag for Intl formatting and the document's lang attribute. */
  get locale(): string {
    return this.lang === 'zh' ? 'zh-CN' : 'en';
  }

  setLang(lang: Lang): void {
    this.lang = lang;
    this.#storage?.setItem(STORAGE_KEY, lang);
  }

  toggle(): void {
    this.setLang(this.lang === 'zh' ? 'en' : 'zh');
  }

  /** The message for `key`, with `{name}` placeholders filled from `params`. */
  t(key: MessageKey, params: Record<string, string | number> = {}): string {
    const template = DICTIONARIES[this.lang][key];
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  }

  kind(kind: DeviceKind): string {
    const def = KINDS[kind];
    return this.lang === 'zh' ? def.labelZh : def.label;
  }

  metric(kind: DeviceKind, metric: string): string {
    const def = KINDS[kind].metrics[metric];
    if (!def) return metric;
    return this.lang === 'zh' ? def.labelZh : def.label;
  }

  status(status: LiveStatus): string {
    return this.t(`status.${status}`);
  }

  role(role: DeviceRole): string {
    return this.t(`role.${role}`);
  }

  /** "12 s ago", "3 min ago": how long before `now` the epoch-ms `then` was. */
  ago(then: number, now: number): string {
    const s = Math.max(0, Math.round((now - then) / 1000));
    if (s < 60) return this.t('time.secondsAgo', { n: s });
    if (s < 3600) return this.t('time.minutesAgo', { n: Math.floor(s / 60) });
    if (s < 86_400) return this.t('time.hoursAgo', { n: Math.floor(s / 3600) });
    return this.t('time.daysAgo', { n: Math.floor(s / 86_400) });
  }

  /** A date and time in the site's own time zone. */
  dateTime(epochMs: number, timeZone: string): string {
    return new Intl.DateTimeFormat(this.locale, {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false,
    }).format(epochMs);
  }

  time(epochMs: number, timeZone: string): string {
    return new Intl.DateTimeFormat(this.locale, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(epochMs);
  }

  number(value: number): string {
    return new Intl.NumberFormat(this.locale, { maximumFractionDigits: 3 }).format(value);
  }
}
