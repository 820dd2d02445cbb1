// Not `import ... from 'node:crypto'`: see the no-restricted-syntax rule in eslint.config.js.
const { createHash } = process.getBuiltinModule('node:crypto');

/** What one node announces for one Service (the speaker's decision, published for people). */
export interface Announcement {
  serviceNamespace: string;
  serviceName: string;
  ips: string[];
  interfaces: string[];
  /** owner: this node answers for everyone; spread: this node answers for a share of the clients. */
  mode: 'owner' | 'spread';
  reason: string;
}

/** Object name for (service, node): stable, DNS-safe, short. */
export function l2StatusName(serviceNamespace: string, serviceName: string, node: string): string {
  const h = createHash('sha256')
    .update(`${serviceNamespace}/${serviceName}/${node}`)
    .digest('hex')
    .slice(0, 10);
  return `${serviceName.slice(0, 40).replace(/[^a-z0-9-]/g, '-')}-${h}`;
}

export interface L2StatusBody {
  node: string;
  serviceName: string;
  serviceNamespace: string;
  ips: string[];
  interfaces: Array<{ name: string }>;
  mode: Announcement['mode'];
  reason: string;
}

export interface L2StatusWrite {
  name: string;
  announcement: Announcement;
  status: L2StatusBody;
  /** The status as JSON: what `written` records once the write succeeded. */
  text: string;
  /** The object does not exist yet (this node starts announcing the service: an Event goes with it). */
  create: boolean;
}

export interface L2StatusPlan {
  writes: L2StatusWrite[];
  /** Objects this node wrote that it no longer announces. */
  deletes: string[];
}

/**
 * This node's ServiceL2Status changes: its complete current announcements against what it wrote
 * (name → status JSON). Unchanged objects are left alone. Pure.
 */
export function planL2Status(
  node: string,
  announcements: readonly Announcement[],
  written: ReadonlyMap<string, string>,
): L2StatusPlan {
  const writes: L2StatusWrite[] = [];
  const wanted = new Set<string>();
  for (const a of announcements) {
    const name = l2StatusName(a.serviceNamespace, a.serviceName, node);
    wanted.add(name);
    const status: L2StatusBody = {
      node,
      serviceName: a.serviceName,
      serviceNamespace: a.serviceNamespace,
      ips: a.ips,
      interfaces: a.interfaces.map((i) => ({ name: i })),
      mode: a.mode,
      reason: a.reason,
    };
    const text = JSON.stringify(status);
    const before = written.get(name);
    if (before !== text) writes.push({ name, announcement: a, status, text, create: before === undefined });
  }
  const deletes = [...written.keys()].filter((name) => !wanted.has(name));
  return { writes, deletes };
}
