import { describe, expect, it } from 'vitest';
import { buildSiteModel, placeOf } from './site-model.ts';
import { DEVICES, SITE } from './testing/fixtures.ts';

const model = buildSiteModel(SITE, DEVICES);

describe('placeOf', () => {
  it("frames a building's footprint, also when only a device in it is named", () => {
    const place = placeOf(model, { plotId: null, buildingId: null, deviceId: 'EL-A-01-1' });
    expect(place.plotId).toBe('A');
    expect(place.building?.id).toBe('A-01');
    expect(place.device?.id).toBe('EL-A-01-1');
    expect(place.box).toEqual({ x: 10, y: 20, w: 40, h: 15 });
  });

  it("frames a device outside buildings at its spot, and a plot by its outline's bounds", () => {
    expect(placeOf(model, { plotId: 'A', buildingId: null, deviceId: 'BP-A-1' })).toMatchObject({ building: null, box: { x: 150, y: 150, w: 0, h: 0 } });
    expect(placeOf(model, { plotId: 'A', buildingId: null, deviceId: null }).box).toEqual({ x: 0, y: 0, w: 300, h: 200 });
    expect(placeOf(model, { plotId: 'A', buildingId: 'A-02', deviceId: null }).box).toEqual({ x: 80, y: 20, w: 40, h: 15 });
  });

  it('knows nothing of what the catalogue does not have', () => {
    expect(placeOf(model, { plotId: null, buildingId: 'Z-99', deviceId: 'XX-1' })).toEqual({ plotId: null, building: null, device: null, box: null });
  });
});
