/** Counts for /api/site and the web's KPI bar: the handbook's figures and the devices per kind. */
import { DEVICE_KINDS, type DeviceKind } from './kinds.ts';
import type { Plot, Site } from './types.ts';

export interface PlotFigures {
  buildings: number;
  households: number;
  shops: number;
  parkingSpaces: number;
  parkingUsable: number;
  nonMotorSpaces: number;
  garages: number;
  managementRoomsM2: number;
}

export interface PlotSummary extends PlotFigures {
  id: string;
  name: string;
  note: string | null;
  elevators: number;
  stairwells: number;
  devices: number;
  devicesByKind: Record<DeviceKind, number>;
}

export interface SiteSummary {
  id: string;
  name: string;
  nameZh: string;
  totals: PlotFigures & { elevators: number; stairwells: number; devices: number; devicesByKind: Record<DeviceKind, number> };
  plots: PlotSummary[];
}

const FIGURES = ['buildings', 'households', 'shops', 'parkingSpaces', 'parkingUsable', 'nonMotorSpaces', 'garages', 'managementRoomsM2'] as const;

const zeroByKind = (): Record<DeviceKind, number> => Object.fromEntries(DEVICE_KINDS.map((k) => [k, 0])) as Record<DeviceKind, number>;

function figuresOf(plot: Plot): PlotFigures {
  return Object.fromEntries(FIGURES.map((f) => [f, plot[f]])) as unknown as PlotFigures;
}

export function siteSummary(site: Site): SiteSummary {
  const plots: PlotSummary[] = site.plots.map((plot) => {
    const devicesByKind = zeroByKind();
    const devices = site.devices.filter((d) => d.plotId === plot.id);
    for (const d of devices) devicesByKind[d.kind]++;
    const buildings = site.buildings.filter((b) => b.plotId === plot.id);
    return {
      id: plot.id,
      name: plot.name,
      note: plot.note ?? null,
      ...figuresOf(plot),
      elevators: buildings.reduce((s, b) => s + b.elevators, 0),
      stairwells: buildings.reduce((s, b) => s + b.stairwells, 0),
      devices: devices.length,
      devicesByKind,
    };
  });

  const totals = { ...Object.fromEntries(FIGURES.map((f) => [f, 0])) as unknown as PlotFigures, elevators: 0, stairwells: 0, devices: 0, devicesByKind: zeroByKind() };
  for (const p of plots) {
    for (const f of FIGURES) totals[f] += p[f];
    totals.elevators += p.elevators;
    totals.stairwells += p.stairwells;
    totals.devices += p.devices;
    for (const k of DEVICE_KINDS) totals.devicesByKind[k] += p.devicesByKind[k];
  }
  return { id: site.id, name: site.name, nameZh: site.nameZh, totals, plots };
}
