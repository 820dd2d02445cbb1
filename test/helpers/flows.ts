import { readFileSync } from 'node:fs';
import { FlowMaps } from '../../src/datapath/flow-maps.js';
import type { LabCluster, LabNode } from '../../src/lab/cluster.js';
import type { HeldConnection } from '../../src/lab/flow-lab.js';
import { readDataplane } from '../../src/lab/observe.js';
import { interfaceMacIn } from './probes.js';

/** Shared by the flow-mode namespace tests: what happened to long-lived connections, and why. */

/** Connections that answered after `since` + `settleMs` and never broke (the rest, with why). */
export function keptWorking(conns: HeldConnection[], since: number, settleMs: number) {
  const ok = conns.filter((c) => c.error === undefined && (c.lastAt ?? 0) > since + settleMs);
  const broken = conns
    .filter((c) => !ok.includes(c))
    .map((c) =>
      c.error !== undefined
        ? `${c.node}: ${c.error} ${(c.errorAt ?? 0) - since} ms after the event`
        : `${c.node}: last answer ${(c.lastAt ?? 0) - since} ms after the event`,
    );
  return { ok: ok.length, broken };
}

/** Ownership moves, owner-watch verdicts and errors every speaker logged since `since` (why flows broke). */
export function ownershipLog(nodes: LabNode[], since: number): string {
  return nodes
    .flatMap((n) =>
      readFileSync(n.logFile, 'utf8')
        .split('\n')
        .filter((line) => Number(/"time":(\d+)/.exec(line)?.[1] ?? 0) >= since)
        .filter((line) =>
          /took over|released|owner watch|member (dead|left|suspect)|liveness gate|not scheduled|"level":[56]0/.test(
            line,
          ),
        )
        .map((line) => `${n.name} ${line}`),
    )
    .join('\n');
}

/** Each live node's flow entry for `vip` (role, slots per target node, pinned flows) and its gate. */
export function flowState(nodes: LabNode[], vip: string, macs: Map<string, string>): string {
  return nodes
    .map((n) => {
      let maps: FlowMaps | undefined;
      try {
        maps = FlowMaps.openPinned(n.pinDir);
        const e = maps.get(vip);
        if (!e) return `${n.name}: no flow entry (gate ${readDataplane(n).gateOpen ? 'open' : 'shut'})`;
        const slots = new Map<number, number>();
        for (const i of e.slots) slots.set(i, (slots.get(i) ?? 0) + 1);
        const targets = e.targets.flatMap((x, i) =>
          x ? [`${macs.get(x.mac.toString('hex')) ?? x.mac.toString('hex')}=${slots.get(i) ?? 0}`] : [],
        );
        return (
          `${n.name}: ${e.role}, gate ${readDataplane(n).gateOpen ? 'open' : 'shut'}, ` +
          `slots ${targets.join(' ')}, ${maps.pinnedFlowCount()} pinned flows`
        );
      } catch (error) {
        return `${n.name}: ${error instanceof Error ? error.message : String(error)}`;
      } finally {
        maps?.close();
      }
    })
    .join('\n');
}

/** Each node's MAC (12 hex digits) → its name. */
export async function nodeMacNames(cluster: LabCluster): Promise<Map<string, string>> {
  const macs = new Map<string, string>();
  for (const n of cluster.nodes)
    macs.set((await interfaceMacIn(cluster.lan, n.ns)).replace(/:/g, ''), n.name);
  return macs;
}

/** Runs `wait`; when it throws, comments `explain()` (what the namespaces show then) before rethrowing. */
export async function explained<T>(
  t: { comment(...message: unknown[]): void },
  wait: () => Promise<T>,
  explain: () => string,
): Promise<T> {
  try {
    return await wait();
  } catch (error) {
    t.comment(explain());
    throw error;
  }
}
