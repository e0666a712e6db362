/**
 * Device kinds as data: what each kind reports, in which unit, within which
 * physical range. Ingest validates against these, the simulators emit them and
 * the web labels them. Capabilities are combined from small metric sets rather
 * than subclassed, in the manner of zigbee-herdsman-converters.
 */

export type MetricType = 'number' | 'boolean' | 'string';

export interface MetricDef {
  readonly type: MetricType;
  readonly unit?: string;
  /** Physically possible range; a value outside it is rejected at ingest. */
  readonly min?: number;
  readonly max?: number;
  /** Allowed values of a string metric. */
  readonly values?: readonly string[];
  /** A register that only grows (meters, counters): consumption is its difference. */
  readonly cumulative?: boolean;
  readonly label: string;
  readonly labelZh: string;
}

export const DEVICE_KINDS = [
  'water-meter',
  'electric-meter',
  'booster-pump',
  'fire-pump',
  'elevator',
  'generator',
  'hydrant',
  'street-light',
  'stair-light',
  'substation',
] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export interface KindDef {
  readonly kind: DeviceKind;
  readonly label: string;
  readonly labelZh: string;
  /** Normal telemetry interval in seconds; silence is judged against it. */
  readonly reportIntervalS: number;
  readonly metrics: Readonly<Record<string, MetricDef>>;
}

const num = (label: string, labelZh: string, unit: string, min: number, max: number, extra: Partial<MetricDef> = {}): MetricDef => ({
  type: 'number', label, labelZh, unit, min, max, ...extra,
});
const bool = (label: string, labelZh: string): MetricDef => ({ type: 'boolean', label, labelZh });
const str = (label: string, labelZh: string, values: readonly string[]): MetricDef => ({ type: 'string', label, labelZh, values });

const battery = { battery_pct: num('Battery', '电池', '%', 0, 100) };
const electrical = {
  current_a: num('Current', '电流', 'A', 0, 500),
  power_kw: num('Power', '功率', 'kW', 0, 1000),
};
const pumpMechanics = {
  running: bool('Running', '运行'),
  pressure_mpa: num('Outlet pressure', '出口压力', 'MPa', 0, 3),
  vibration_mms: num('Vibration', '振动', 'mm/s', 0, 100),
  run_hours: num('Run hours', '运行时长', 'h', 0, 1_000_000, { cumulative: true }),
  starts: num('Starts', '启动次数', '', 0, 100_000_000, { cumulative: true }),
};
const feeders = Object.fromEntries(
  Array.from({ length: 8 }, (_, i) => [`feeder_${i + 1}`, bool(`Feeder ${i + 1}`, `馈线 ${i + 1}`)]),
);

export const KINDS: Readonly<Record<DeviceKind, KindDef>> = {
  'water-meter': {
    kind: 'water-meter', label: 'Water meter', labelZh: '水表', reportIntervalS: 900,
    metrics: {
      volume_m3: num('Volume', '累计水量', 'm³', 0, 100_000_000, { cumulative: true }),
      ...battery,
    },
  },
  'electric-meter': {
    kind: 'electric-meter', label: 'Electric meter', labelZh: '电表', reportIntervalS: 900,
    metrics: {
      energy_kwh: num('Energy', '累计电量', 'kWh', 0, 1_000_000_000, { cumulative: true }),
      power_kw: num('Power', '功率', 'kW', 0, 5000),
      voltage_v: num('Voltage', '电压', 'V', 0, 500),
    },
  },
  'booster-pump': {
    kind: 'booster-pump', label: 'Booster pump', labelZh: '生活水泵', reportIntervalS: 10,
    metrics: { ...pumpMechanics, ...electrical },
  },
  'fire-pump': {
    kind: 'fire-pump', label: 'Fire pump', labelZh: '消防泵', reportIntervalS: 10,
    metrics: {
      ...pumpMechanics,
      ...electrical,
      battery_v: num('Battery voltage', '电池电压', 'V', 0, 60),
      fuel_pct: num('Fuel', '燃油', '%', 0, 100),
    },
  },
  elevator: {
    kind: 'elevator', label: 'Elevator', labelZh: '电梯', reportIntervalS: 5,
    metrics: {
      floor: num('Floor', '楼层', '', -3, 80),
      between_floors: bool('Between floors', '平层外'),
      direction: str('Direction', '方向', ['up', 'down', 'idle']),
      door: str('Door', '门', ['open', 'closed', 'opening', 'closing']),
      load_kg: num('Load', '载重', 'kg', 0, 3000),
      trips: num('Trips', '运行次数', '', 0, 1_000_000_000, { cumulative: true }),
      door_cycles: num('Door cycles', '开关门次数', '', 0, 1_000_000_000, { cumulative: true }),
      fault_code: num('Fault code', '故障码', '', 0, 9999),
    },
  },
  generator: {
    kind: 'generator', label: 'Backup generator', labelZh: '备用发电机', reportIntervalS: 10,
    metrics: {
      state: str('State', '状态', ['standby', 'cranking', 'running', 'failed']),
      battery_v: num('Battery voltage', '电池电压', 'V', 0, 60),
      fuel_pct: num('Fuel', '燃油', '%', 0, 100),
      coolant_c: num('Coolant', '冷却液温度', '°C', -40, 150),
      oil_kpa: num('Oil pressure', '机油压力', 'kPa', 0, 1000),
      load_kw: num('Load', '负载', 'kW', 0, 2000),
      run_hours: num('Run hours', '运行时长', 'h', 0, 1_000_000, { cumulative: true }),
      mains_ok: bool('Mains present', '市电'),
    },
  },
  hydrant: {
    kind: 'hydrant', label: 'Fire hydrant', labelZh: '室外消火栓', reportIntervalS: 300,
    metrics: {
      pressure_mpa: num('Static pressure', '静压', 'MPa', 0, 3),
      temp_c: num('Water temperature', '水温', '°C', -40, 80),
      ...battery,
    },
  },
  'street-light': {
    kind: 'street-light', label: 'Street light', labelZh: '路灯', reportIntervalS: 300,
    metrics: {
      on: bool('Lamp on', '亮灯'),
      power_w: num('Power', '功率', 'W', 0, 1000),
      lamp_hours: num('Lamp hours', '点亮时长', 'h', 0, 1_000_000, { cumulative: true }),
    },
  },
  'stair-light': {
    kind: 'stair-light', label: 'Stair-light circuit', labelZh: '楼道灯回路', reportIntervalS: 300,
    metrics: {
      activations: num('Activations', '触发次数', '', 0, 1_000_000_000, { cumulative: true }),
      power_w: num('Power', '功率', 'W', 0, 5000),
      circuit_ok: bool('Circuit healthy', '回路正常'),
    },
  },
  substation: {
    kind: 'substation', label: 'Substation', labelZh: '变配电室', reportIntervalS: 10,
    metrics: {
      voltage_v: num('LV bus voltage', '低压母线电压', 'V', 0, 500),
      load_kw: num('Load', '负荷', 'kW', 0, 20_000),
      frequency_hz: num('Frequency', '频率', 'Hz', 0, 70),
      ...feeders,
    },
  },
};
