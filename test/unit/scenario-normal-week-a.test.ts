import { normalWeek } from '../support/normal-week.ts';

// A summer week: air-conditioning load, short nights, the generator's and the diesel fire pump's weekly tests.
normalWeek('A', '2025-07-14T00:00:00+08:00');
