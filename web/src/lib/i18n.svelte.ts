/**
 * A tiny dictionary: Simplified Chinese by default, English on request. Device
 * kind and metric labels come from the catalogue (KINDS), not from here.
 */
import { KINDS } from '../../../server/src/catalogue/kinds.ts';
import type { DeviceKind } from '../../../server/src/catalogue/kinds.ts';
import type { DeviceRole } from '../../../server/src/catalogue/types.ts';
import type { MetricValue } from '../../../server/src/contract.ts';
import type { LiveStatus } from '../../../server/src/push/events.ts';

export const LANGS = ['zh', 'en'] as const;
export type Lang = (typeof LANGS)[number];

const zh = {
  'app.title': '蓝谷地 · 监控中心',
  'app.langToggle': 'English',
  'app.langToggleLabel': '切换到英文',
  'auth.title': '登录',
  'auth.username': '用户名',
  'auth.password': '密码',
  'auth.login': '登录',
  'auth.loggingIn': '正在登录…',
  'auth.logout': '退出登录',
  'auth.expired': '会话已过期，请重新登录。',
  'auth.loggedOut': '已退出登录。',
  'auth.error.failed': '用户名或密码错误。',
  'auth.error.locked': '失败次数过多，请 {n} 分钟后再试。',
  'auth.error.missing': '请输入用户名和密码。',
  'auth.error.network': '无法连接服务器。',
  'auth.error.other': '登录失败，请稍后再试。',
  'auth.demo': '演示账号',
  'auth.role.operator': '监控值班员',
  'auth.role.patrol-officer': '巡逻员',
  'auth.role.technician': '维修技工',
  'auth.role.department-supervisor': '部门主管',
  'auth.role.cs-supervisor': '客服主管',
  'auth.role.reception': '前台接待',
  'auth.role.manager': '经理',
  'auth.role.admin': '管理员',
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
  'nav.label': '视图',
  'nav.controlRoom': '监控地图',
  'nav.trends': '用量趋势',
  'map.zoomIn': '放大',
  'map.zoomOut': '缩小',
  'map.zoomReset': '总览',
  'map.zoomHint': '滚轮或双指缩放，拖动平移；键盘 + − 缩放，方向键平移，0 回到总览',
  'map.zoomLevel': '缩放 {pct}%',
  'trends.utility': '类别',
  'trends.utility.water': '用水',
  'trends.utility.electricity': '用电',
  'trends.period': '周期',
  'trends.period.day': '日',
  'trends.period.week': '周',
  'trends.period.month': '月',
  'trends.scope': '范围',
  'trends.level': '层级',
  'trends.level.site': '全小区',
  'trends.level.plot': '地块',
  'trends.level.building': '楼栋',
  'trends.level.unit': '住户/商铺',
  'trends.roomLabel': '房号，如 A-03-0502 或 A-S01',
  'trends.lookUp': '查询',
  'trends.roomUnknown': '没有房号“{room}”',
  'trends.enterRoom': '请输入房号后查询。',
  'trends.room': '房号 {id}',
  'trends.compare': '对比上一周期',
  'trends.exportCsv': '导出 CSV',
  'trends.loading': '正在加载用量…',
  'trends.error': '用量加载失败：{message}',
  'trends.consumption': '用量',
  'trends.total': '本期合计',
  'trends.previousTotal': '上期合计',
  'trends.change': '环比',
  'trends.meters': '表计数',
  'trends.noData': '本周期没有读数。',
  'trends.chartLabel': '{scope} 的用量曲线',
  'trends.series.current': '本期',
  'trends.series.previous': '上期',
  'trends.series.inlet': '总进水',
  'trends.balance': '水量平衡',
  'trends.balance.inlet': '总进水表',
  'trends.balance.consumers': '住户与商铺合计',
  'trends.balance.loss': '差额（漏损）',
  'trends.nightFlow': '夜间最小流量',
  'trends.nightFlowHint': '每晚 02:00–04:00 总进水的最小小时流量；长期不降到接近零提示有漏水。',
  'trends.night': '日期',
  'trends.minFlow': '最小流量 {unit}',
  'trends.top': '用量前 {n} 名',
  'trends.unit': '房号',
  'trends.showUnit': '查看该户曲线',
  'value.up': '上行',
  'value.down': '下行',
  'value.idle': '停梯',
  'value.open': '开',
  'value.closed': '关',
  'value.opening': '正在开门',
  'value.closing': '正在关门',
  'value.standby': '待机',
  'value.cranking': '启动中',
  'value.running': '运行',
  'value.failed': '故障',
  'nav.myTickets': '我的工单',
  'nav.reception': '前台接待',
  'alarms.title': '报警列表',
  'alarms.loading': '正在加载报警…',
  'alarms.none': '没有活动报警。',
  'alarms.mute': '静音',
  'alarms.unmute': '取消静音',
  'alarms.flood': '地块 {plot} 报警泛滥：根因在前',
  'alarms.others': '其他报警',
  'alarms.rootCause': '根因',
  'alarms.chattering': '频繁跳变',
  'alarms.returned': '已恢复',
  'alarms.unacked': '未确认',
  'alarms.acked': '已确认',
  'alarms.ack': '确认',
  'alarms.shelve': '搁置',
  'alarms.reason': '原因',
  'alarms.duration': '时长',
  'alarms.minutes': '{n} 分钟',
  'alarms.hours': '{n} 小时',
  'alarms.shelveConfirm': '搁置',
  'alarms.cancel': '取消',
  'alarms.reasonRequired': '搁置需要填写原因。',
  'alarms.actionFailed': '操作失败（{code}）',
  'alarms.priority1': '1 级 · 紧急',
  'alarms.priority2': '2 级 · 高',
  'alarms.priority3': '3 级 · 中',
  'alarms.priority4': '4 级 · 低',
  'kpi.title': '报警指标',
  'kpi.per10': '每 10 分钟报警',
  'kpi.peak': '（峰值 {n}）',
  'kpi.flood': '泛滥',
  'kpi.floodNow': '泛滥中：{plots}',
  'kpi.floodPeriods': '24 小时内 {n} 次',
  'kpi.chattering': '频繁跳变',
  'kpi.stale': '超 24 小时未恢复',
  'kpi.unavailable': '指标不可用（{code}）',
  'tickets.title': '我的工单',
  'tickets.loading': '正在加载工单…',
  'tickets.error': '工单加载失败：{message}',
  'tickets.none': '没有分配给我的工单。',
  'tickets.of': '第 {n} / {total} 张',
  'tickets.prev': '上一张',
  'tickets.next': '下一张',
  'tickets.accept': '接单',
  'tickets.start': '开始处理',
  'tickets.resolve': '完成并提交',
  'tickets.note': '处理说明',
  'tickets.noteRequired': '完成工单需要填写处理说明。',
  'tickets.waiting': '等待核实',
  'tickets.due': '应完成：{time}',
  'tickets.overdue': '已超时',
  'tickets.location': '位置',
  'tickets.accepted': '已接单',
  'tickets.status.open': '待分配',
  'tickets.status.assigned': '已分配',
  'tickets.status.in-progress': '处理中',
  'tickets.status.resolved': '已解决',
  'tickets.status.closed': '已关闭',
  'tickets.status.cancelled': '已取消',
  'tickets.changedElsewhere': '工单已被他人修改，已刷新。',
  'tickets.actionFailed': '操作失败（{code}）',
  'reception.title': '来访登记',
  'reception.source': '来源',
  'reception.source.phone': '电话',
  'reception.source.walk-in': '来访',
  'reception.source.letter': '来信',
  'reception.building': '楼栋',
  'reception.unit': '房号',
  'reception.unitHint': '如 0502',
  'reception.location': '具体位置',
  'reception.subject': '标题',
  'reception.description': '描述',
  'reception.neededBy': '需要完成时间',
  'reception.callbackPhone': '回访电话',
  'reception.submit': '登记工单',
  'reception.created': '已登记工单 #{id}',
  'reception.unknownBuilding': '没有楼栋“{id}”',
  'reception.unknownUnit': '楼栋 {building} 没有房号“{unit}”',
  'reception.titleRequired': '请填写标题。',
  'reception.badPhone': '电话号码格式不正确。',
  'reception.failed': '登记失败（{code}）：{message}',
  'reception.callbacks': '回访列表',
  'reception.noCallbacks': '没有待回访。',
  'reception.complete': '完成回访',
  'reception.completeNote': '回访结果',
  'reception.letters': '来信转交期限',
  'reception.noLetters': '没有待转交的来信。',
  'reception.letterLeft': '剩余 {time}',
  'reception.letterLate': '已超时 {time}',
  'reception.overdue': '已逾期',
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  'app.title': 'Blue Valley · Control room',
  'app.langToggle': '中文',
  'app.langToggleLabel': 'Switch to Chinese',
  'auth.title': 'Log in',
  'auth.username': 'Username',
  'auth.password': 'Password',
  'auth.login': 'Log in',
  'auth.loggingIn': 'Logging in…',
  'auth.logout': 'Log out',
  'auth.expired': 'Your session has expired; please log in again.',
  'auth.loggedOut': 'You have logged out.',
  'auth.error.failed': 'Wrong username or password.',
  'auth.error.locked': 'Too many failed attempts; try again in {n} min.',
  'auth.error.missing': 'Enter your username and password.',
  'auth.error.network': 'Cannot reach the server.',
  'auth.error.other': 'Login failed; please try again later.',
  'auth.demo': 'demo account',
  'auth.role.operator': 'Control-room operator',
  'auth.role.patrol-officer': 'Patrol officer',
  'auth.role.technician': 'Technician',
  'auth.role.department-supervisor': 'Department supervisor',
  'auth.role.cs-supervisor': 'Customer-service supervisor',
  'auth.role.reception': 'Reception',
  'auth.role.manager': 'Manager',
  'auth.role.admin': 'Administrator',
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
  'nav.label': 'Views',
  'nav.controlRoom': 'Control room',
  'nav.trends': 'Meter trends',
  'map.zoomIn': 'Zoom in',
  'map.zoomOut': 'Zoom out',
  'map.zoomReset': 'Overview',
  'map.zoomHint': 'Wheel or pinch to zoom, drag to pan; keys + − zoom, arrows pan, 0 back to the overview',
  'map.zoomLevel': 'Zoom {pct}%',
  'trends.utility': 'Utility',
  'trends.utility.water': 'Water',
  'trends.utility.electricity': 'Electricity',
  'trends.period': 'Period',
  'trends.period.day': 'Day',
  'trends.period.week': 'Week',
  'trends.period.month': 'Month',
  'trends.scope': 'Scope',
  'trends.level': 'Level',
  'trends.level.site': 'Whole estate',
  'trends.level.plot': 'Plot',
  'trends.level.building': 'Building',
  'trends.level.unit': 'Household/shop',
  'trends.roomLabel': 'Room, e.g. A-03-0502 or A-S01',
  'trends.lookUp': 'Look up',
  'trends.roomUnknown': 'No room "{room}"',
  'trends.enterRoom': 'Enter a room number and look it up.',
  'trends.room': 'Room {id}',
  'trends.compare': 'Compare with the previous period',
  'trends.exportCsv': 'Export CSV',
  'trends.loading': 'Loading consumption…',
  'trends.error': 'Could not load consumption: {message}',
  'trends.consumption': 'Consumption',
  'trends.total': 'This period',
  'trends.previousTotal': 'Previous period',
  'trends.change': 'Change',
  'trends.meters': 'Meters',
  'trends.noData': 'No readings in this period.',
  'trends.chartLabel': 'Consumption chart of {scope}',
  'trends.series.current': 'This period',
  'trends.series.previous': 'Previous period',
  'trends.series.inlet': 'Bulk inlet',
  'trends.balance': 'Water balance',
  'trends.balance.inlet': 'Bulk inlet meter',
  'trends.balance.consumers': 'Households and shops',
  'trends.balance.loss': 'Difference (losses)',
  'trends.nightFlow': 'Minimum night flow',
  'trends.nightFlowHint': 'The inlet\'s smallest hourly flow from 02:00 to 04:00 each night; one that never falls near zero suggests a leak.',
  'trends.night': 'Night of',
  'trends.minFlow': 'Minimum {unit}',
  'trends.top': 'Top {n} consumers',
  'trends.unit': 'Room',
  'trends.showUnit': 'Show this room\'s trend',
  'value.up': 'up',
  'value.down': 'down',
  'value.idle': 'idle',
  'value.open': 'open',
  'value.closed': 'closed',
  'value.opening': 'opening',
  'value.closing': 'closing',
  'value.standby': 'standby',
  'value.cranking': 'cranking',
  'value.running': 'running',
  'value.failed': 'failed',
  'nav.myTickets': 'My tickets',
  'nav.reception': 'Reception',
  'alarms.title': 'Alarms',
  'alarms.loading': 'Loading alarms…',
  'alarms.none': 'No active alarms.',
  'alarms.mute': 'Mute',
  'alarms.unmute': 'Unmute',
  'alarms.flood': 'Alarm flood in plot {plot}: root causes first',
  'alarms.others': 'Other alarms',
  'alarms.rootCause': 'root cause',
  'alarms.chattering': 'chattering',
  'alarms.returned': 'returned to normal',
  'alarms.unacked': 'unacknowledged',
  'alarms.acked': 'acknowledged',
  'alarms.ack': 'Acknowledge',
  'alarms.shelve': 'Shelve',
  'alarms.reason': 'Reason',
  'alarms.duration': 'For',
  'alarms.minutes': '{n} min',
  'alarms.hours': '{n} h',
  'alarms.shelveConfirm': 'Shelve',
  'alarms.cancel': 'Cancel',
  'alarms.reasonRequired': 'Shelving needs a reason.',
  'alarms.actionFailed': 'Action failed ({code})',
  'alarms.priority1': 'Priority 1 · critical',
  'alarms.priority2': 'Priority 2 · high',
  'alarms.priority3': 'Priority 3 · medium',
  'alarms.priority4': 'Priority 4 · low',
  'kpi.title': 'Alarm KPIs',
  'kpi.per10': 'Alarms per 10 min',
  'kpi.peak': '(peak {n})',
  'kpi.flood': 'Flood',
  'kpi.floodNow': 'flooding: {plots}',
  'kpi.floodPeriods': '{n} in 24 h',
  'kpi.chattering': 'Chattering',
  'kpi.stale': 'Stale > 24 h',
  'kpi.unavailable': 'KPIs unavailable ({code})',
  'tickets.title': 'My tickets',
  'tickets.loading': 'Loading tickets…',
  'tickets.error': 'Could not load tickets: {message}',
  'tickets.none': 'No tickets assigned to me.',
  'tickets.of': '{n} of {total}',
  'tickets.prev': 'Previous',
  'tickets.next': 'Next',
  'tickets.accept': 'Accept',
  'tickets.start': 'Start work',
  'tickets.resolve': 'Resolve',
  'tickets.note': 'What was done',
  'tickets.noteRequired': 'Resolving needs a note.',
  'tickets.waiting': 'Waiting for verification',
  'tickets.due': 'Due {time}',
  'tickets.overdue': 'overdue',
  'tickets.location': 'Location',
  'tickets.accepted': 'accepted',
  'tickets.status.open': 'Open',
  'tickets.status.assigned': 'Assigned',
  'tickets.status.in-progress': 'In progress',
  'tickets.status.resolved': 'Resolved',
  'tickets.status.closed': 'Closed',
  'tickets.status.cancelled': 'Cancelled',
  'tickets.changedElsewhere': 'Someone else changed this ticket; reloaded.',
  'tickets.actionFailed': 'Action failed ({code})',
  'reception.title': 'New ticket',
  'reception.source': 'Source',
  'reception.source.phone': 'Phone',
  'reception.source.walk-in': 'Walk-in',
  'reception.source.letter': 'Letter',
  'reception.building': 'Building',
  'reception.unit': 'Unit',
  'reception.unitHint': 'e.g. 0502',
  'reception.location': 'Where exactly',
  'reception.subject': 'Title',
  'reception.description': 'Description',
  'reception.neededBy': 'Needed by',
  'reception.callbackPhone': 'Callback phone',
  'reception.submit': 'Create ticket',
  'reception.created': 'Ticket #{id} created',
  'reception.unknownBuilding': 'No building "{id}"',
  'reception.unknownUnit': 'Building {building} has no unit "{unit}"',
  'reception.titleRequired': 'Please give a title.',
  'reception.badPhone': 'That is not a phone number.',
  'reception.failed': 'Could not create the ticket ({code}): {message}',
  'reception.callbacks': 'Callbacks',
  'reception.noCallbacks': 'No callbacks due.',
  'reception.complete': 'Done',
  'reception.completeNote': 'Outcome',
  'reception.letters': 'Letter hand-over deadlines',
  'reception.noLetters': 'No letters waiting.',
  'reception.letterLeft': '{time} left',
  'reception.letterLate': '{time} late',
  'reception.overdue': 'overdue',
};

const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { zh, en };
const STORAGE_KEY = 'estatewatch.lang';

/** Where the chosen language is remembered between visits (localStorage in the browser). */
export interface LangStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

function isMessageKey(key: string): key is MessageKey {
  return Object.hasOwn(zh, key);
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

  /** A date and time in the site's own time zone, to the second or the minute. */
  dateTime(epochMs: number, timeZone: string, precision: 'second' | 'minute' = 'second'): string {
    return new Intl.DateTimeFormat(this.locale, {
      timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
      ...(precision === 'second' && { second: '2-digit' }), hour12: false,
    }).format(epochMs);
  }

  /** A calendar date given as YYYY-MM-DD (already local), with its weekday. */
  date(isoDate: string): string {
    return new Intl.DateTimeFormat(this.locale, { timeZone: 'UTC', month: '2-digit', day: '2-digit', weekday: 'short' }).format(Date.parse(`${isoDate}T00:00:00Z`));
  }

  /** A metric's value as people read it: yes/no, a number in the locale, or a translated state word. */
  value(value: MetricValue): string {
    if (typeof value === 'boolean') return this.t(value ? 'value.true' : 'value.false');
    if (typeof value === 'number') return this.number(value);
    const key = `value.${value}`;
    return isMessageKey(key) ? this.t(key) : value;
  }

  time(epochMs: number, timeZone: string): string {
    return new Intl.DateTimeFormat(this.locale, { timeZone, hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(epochMs);
  }

  number(value: number, maximumFractionDigits = 3): string {
    return new Intl.NumberFormat(this.locale, { maximumFractionDigits }).format(value);
  }
}
