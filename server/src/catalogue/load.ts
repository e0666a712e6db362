/**
 * Where the Site comes from: the built-in Blue Valley file, or the file named
 * by SITE_FILE. Either way it is validated in full before it is expanded, and a
 * bad file fails with every problem listed, each with its JSON path.
 */
import { readFileSync } from 'node:fs';
import blueValley from './blue-valley.json' with { type: 'json' };
import { expandSite } from './expand.ts';
import type { SiteSpec } from './spec.ts';
import type { Site } from './types.ts';
import { schemaProblems, semanticProblems } from './validate.ts';

export { siteSummary, type SiteSummary, type PlotSummary } from './summary.ts';

export type SiteFileErrorCode = 'SITE_FILE_INVALID' | 'SITE_FILE_UNREADABLE';

export class SiteFileError extends Error {
  constructor(readonly code: SiteFileErrorCode, readonly source: string, readonly problems: readonly string[]) {
    super(`${code === 'SITE_FILE_INVALID' ? 'Invalid' : 'Unreadable'} site file ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SiteFileError';
  }
}

/** Validates parsed JSON as a site file; `source` names it in the error. */
export function parseSiteSpec(raw: unknown, source: string): SiteSpec {
  const shape = schemaProblems(raw);
  if (shape.length > 0) throw new SiteFileError('SITE_FILE_INVALID', source, shape);
  const spec = raw as SiteSpec;
  const meaning = semanticProblems(spec);
  if (meaning.length > 0) throw new SiteFileError('SITE_FILE_INVALID', source, meaning);
  return spec;
}

export function readSiteSpec(siteFile: string): SiteSpec {
  let text: string;
  try {
    text = readFileSync(siteFile, 'utf8');
  } catch (err) {
    throw new SiteFileError('SITE_FILE_UNREADABLE', siteFile, [(err as Error).message]);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new SiteFileError('SITE_FILE_INVALID', siteFile, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseSiteSpec(raw, siteFile);
}

/** The built-in Blue Valley site file, validated like any other. */
export function blueValleySpec(): SiteSpec {
  return parseSiteSpec(structuredClone(blueValley), 'built-in blue-valley.json');
}

/** null: the built-in Blue Valley; otherwise the site file at that path. */
export function loadSite(siteFile: string | null): Site {
  return expandSite(siteFile === null ? blueValleySpec() : readSiteSpec(siteFile));
}
