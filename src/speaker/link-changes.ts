/** A network interface as the kernel knows it now. */
export interface Link {
  name: string;
  ifindex: number;
}

/** What to do to the XDP attachments so they follow the interfaces the speaker announces on. */
export interface LinkChanges {
  /** New interfaces, and interfaces recreated under a known name (a new ifindex). */
  attach: Link[];
  /** Interfaces that left the announcing set but still exist (lost their addresses): detach from them. */
  detach: string[];
  /** Interfaces gone from the kernel (or recreated): their attachment went with them, forget it. */
  forget: string[];
}

/**
 * Compares the attached interfaces (name → ifindex when attached) with the ones to announce on now and
 * with the kernel's current ifindex of every attached name (undefined: the interface is gone). Pure.
 */
export function linkChanges(
  attached: ReadonlyMap<string, number>,
  wanted: readonly Link[],
  current: (name: string) => number | undefined,
): LinkChanges {
  const changes: LinkChanges = { attach: [], detach: [], forget: [] };
  const wantedByName = new Map(wanted.map((l) => [l.name, l]));
  for (const [name, ifindex] of attached) {
    const now = current(name);
    if (now !== ifindex) changes.forget.push(name);
    else if (!wantedByName.has(name)) changes.detach.push(name);
  }
  for (const link of wanted) {
    const was = attached.get(link.name);
    if (was === undefined || was !== link.ifindex) changes.attach.push(link);
  }
  return changes;
}
