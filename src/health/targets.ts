import { type HeraldModel, isHeraldService, serviceHealthCheck, serviceKey } from '../config/index.js';
import type { HealthTarget } from './monitor.js';

/**
 * The checks this node runs: one per Herald Service with a valid health-check annotation. A Service with
 * a bad annotation runs none (herald validate and the log say why): bad input never withdraws a VIP.
 */
export function healthTargets(model: HeraldModel): { targets: HealthTarget[]; problems: string[] } {
  const targets: HealthTarget[] = [];
  const problems: string[] = [];
  for (const svc of model.services) {
    if (!isHeraldService(svc)) continue;
    const { check, problems: found } = serviceHealthCheck(svc);
    for (const p of found) problems.push(`${serviceKey(svc)}: ${p.path}: ${p.message}`);
    if (check) targets.push({ service: serviceKey(svc), check });
  }
  return { targets, problems };
}
