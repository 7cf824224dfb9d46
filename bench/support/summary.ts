import { BenchResult, Comparison, meetsTarget, ratioOf } from './report';

const fmt = (n: number): string =>
  Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : Number(n.toPrecision(3)).toString();

function cells(section: string, c: Comparison): string[] {
  const ratio = ratioOf(c);
  const met = meetsTarget(c);
  return [
    section,
    c.what,
    `${fmt(c.value)} ${c.unit}`,
    c.reference ? `${c.reference.what}: ${fmt(c.reference.value)} ${c.reference.unit}` : '',
    ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
    c.target ? `${c.target.bound === 'min' ? '≥' : '≤'} ${c.target.ratio}×` : '',
    met === undefined ? '' : met ? 'met' : 'NOT met',
  ];
}

const HEADER = ['benchmark', 'figure', 'value', 'reference', 'ratio', 'target', 'result'];

/** Every comparison of every result, one row each, as a plain-text table with aligned columns. */
export function summaryTable(results: readonly BenchResult[]): string {
  const rows = [HEADER, ...results.flatMap((r) => r.comparisons.map((c) => cells(r.section, c)))];
  const widths = HEADER.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (row: string[]) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(rows[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

const escape = (cell: string): string => cell.replace(/\|/g, '\\|');

/** The same table in markdown, with each result's notes below it, for bench/README.md. */
export function summaryMarkdown(results: readonly BenchResult[], heading: string): string {
  const rows = results.flatMap((r) => r.comparisons.map((c) => cells(r.section, c)));
  const table = [
    `| ${HEADER.join(' | ')} |`,
    `| ${HEADER.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ];
  const notes = results.flatMap((r) => [
    ...r.comparisons.filter((c) => c.note).map((c) => `- **${r.section}**, ${c.what}: ${c.note}`),
    ...(r.notes ?? []).map((n) => `- **${r.section}**: ${n}`),
  ]);
  return [heading, '', ...table, ...(notes.length ? ['', ...notes] : []), ''].join('\n');
}
