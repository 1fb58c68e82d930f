/** What one RPC's fuzzing saw. */
export interface FuzzReport {
  readonly rpc: string;
  valid: number;
  raw: number;
  /** Answers per status name. */
  readonly statuses: Map<string, number>;
  slowestMs: number;
}

/** Prints one RPC's table: inputs, answers per status, slowest call, crashed services. */
export function printReport(report: FuzzReport, crashes: number): void {
  const statuses = [...report.statuses.entries()]
    .sort(([, a], [, b]) => b - a)
    .map(([status, count]) => `${status} ${count}`)
    .join(', ');
  const rows = [
    ['RPC', 'inputs (valid + raw)', 'answers per status', 'slowest', 'crashes'],
    [
      report.rpc,
      `${report.valid + report.raw} (${report.valid} + ${report.raw})`,
      statuses,
      `${Math.round(report.slowestMs)} ms`,
      String(crashes),
    ],
  ];
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  const line = (row: string[]) =>
    `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  console.log(
    [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, line(rows[1]!)].join(
      '\n',
    ),
  );
}
