import { describe, expect, it } from 'vitest';
import { renderTable, type Figure } from './harness';

const figure = (f: Partial<Figure>): Figure => ({ name: 'f', unit: 'ms', better: 'lower', measure: async () => ({ berth: 0 }), ...f });
/** The goal and met cells of the table's one row. */
const cells = (f: Figure, result: Parameters<typeof renderTable>[0][number]['result']) => {
  const row = renderTable([{ figure: f, result }]).split('\n')[2]!.split('|').map((c) => c.trim());
  return { ratio: row[4], goal: row[5], met: row[6] };
};

describe('the bench table', () => {
  it('judges a ratio goal against the baseline, in the direction that is better', () => {
    expect(cells(figure({ goal: 0.5 }), { berth: 40, baseline: 100 })).toEqual({ ratio: '0.40×', goal: '≤ 0.5×', met: 'yes' });
    expect(cells(figure({ goal: 0.5 }), { berth: 60, baseline: 100 }).met).toBe('no');
    expect(cells(figure({ goal: 2, better: 'higher', unit: 'MB/s' }), { berth: 300, baseline: 100 }).met).toBe('yes');
    expect(cells(figure({ goal: 0.5 }), { berth: 60 }).met).toBe('');
  });

  it('judges an absolute goal on berthd\'s own figure, or as the figure itself says', () => {
    expect(cells(figure({ absoluteGoal: 16 }), { berth: 3.7, baseline: 2 })).toEqual({ ratio: '1.85×', goal: '≤ 16 ms', met: 'yes' });
    expect(cells(figure({ absoluteGoal: 3, unit: 's' }), { berth: 4.8, baseline: 2.8 }).met).toBe('no');
    expect(cells(figure({ absoluteGoal: 50 }), { berth: 54, absoluteMet: true }).met).toBe('yes');
    expect(cells(figure({ goal: 1, absoluteGoal: 50 }), { berth: 40, baseline: 20 })).toMatchObject({ goal: '≤ 1×, ≤ 50 ms', met: 'no' });
  });
});
