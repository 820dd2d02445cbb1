import type { Command } from 'commander';
import { allocateAll } from '../../allocator/allocate-all.js';
import { loadConfigFiles } from '../../config/load.js';
import { isHeraldService, serviceKey } from '../../config/service.js';
import { lintService } from '../../config/service-lint.js';
import { formatSummaries, type ServiceSummary, serviceSummaries } from './validate-summary.js';
import { formatProblem, sortProblems, type Problem } from '../../config/types.js';
import type { ParsedConfig } from '../../config/parse.js';
import { Allocator } from '../../allocator/allocator.js';

/** `herald validate FILE...`: every problem at once, one line each (`file:doc:path: message`), exit 1; else a summary. */

export interface ValidateReport {
  valid: boolean;
  problems: Problem[];
  summary: string;
  allocations: Record<string, { ips: string[]; pool: string } | { error: string }>;
  /** Per allocated service: addresses, pool, how they are announced, why one family of a dual request. */
  services: ServiceSummary[];
}

export function validateReport(parsed: ParsedConfig, fileCount: number): ValidateReport {
  const { model } = parsed;
  const problems = [...parsed.problems];
  const allocations: ValidateReport['allocations'] = {};
  const result = allocateAll(model);
  const byKey = new Map(model.services.map((s) => [serviceKey(s), s]));
  for (const [key, a] of result) {
    allocations[key] = a;
    const svc = byKey.get(key);
    const loc = svc ? parsed.locations.get(svc) : undefined;
    if ('error' in a && loc && !problems.some((p) => p.file === loc.file && p.doc === loc.doc)) {
      problems.push({
        file: loc.file,
        doc: loc.doc,
        path: loc.path || 'spec',
        message: `cannot allocate: ${a.error}`,
      });
    }
  }
  // In a file, a Service without a type is almost surely a mistake (Kubernetes would make it ClusterIP).
  for (const svc of model.services) {
    const loc = parsed.locations.get(svc);
    if (!loc) continue;
    for (const f of lintService(svc)) {
      problems.push({ ...loc, path: loc.path ? `${loc.path}.${f.path}` : f.path, message: f.message });
    }
    if (svc.spec.type === undefined) {
      problems.push({
        ...loc,
        path: loc.path ? `${loc.path}.spec.type` : 'spec.type',
        message: 'not set: Kubernetes defaults to ClusterIP, which Herald ignores; set type: LoadBalancer',
      });
    }
  }
  const stats = new Allocator({ pools: model.pools }).poolStats();
  const addresses = stats.reduce((n, s) => n + s.addressesTotal, 0);
  const handled = model.services.filter(isHeraldService).length;
  const allocated = [...result.values()].filter((a) => 'ips' in a).length;
  const summary =
    `${fileCount} file${fileCount === 1 ? '' : 's'} valid: ${model.pools.length} pool${model.pools.length === 1 ? '' : 's'} (${fmtCount(addresses)} addresses), ` +
    `${model.l2Advertisements.length} L2 and ${model.bgpAdvertisements.length} BGP advertisements, ` +
    `${model.bgpPeers.length} BGP peers, ${handled} services (${allocated} allocated)`;
  const sorted = sortProblems(problems);
  return {
    valid: sorted.length === 0,
    problems: sorted,
    summary,
    allocations,
    services: serviceSummaries(model, result),
  };
}

const fmtCount = (n: number): string => (n >= 1e15 ? n.toExponential(2) : n.toLocaleString('en-US'));

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description(
      'check configuration files (Herald or MetalLB objects, Services); exit 1 and list every problem',
    )
    .argument('<files...>', 'YAML files (multi-document)')
    .option('--json', 'print the report as JSON')
    .action(async (files: string[], opts: { json?: boolean }) => {
      const parsed = await loadConfigFiles(files);
      const report = validateReport(parsed, files.length);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      } else if (report.valid) {
        process.stdout.write(`${[report.summary, ...formatSummaries(report.services)].join('\n')}\n`);
      } else {
        for (const p of report.problems) process.stdout.write(`${formatProblem(p)}\n`);
        process.stderr.write(`${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}\n`);
      }
      process.exitCode = report.valid ? 0 : 1;
    });
}
