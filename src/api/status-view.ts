import type { StatusClient, VipList } from './client.js';
import { formatMembers, formatSessions, formatVips } from './format.js';
import type { BgpSessionStatus, MemberStatus } from './source.js';

export const STATUS_SECTIONS = ['vips', 'members', 'bgp'] as const;
export type StatusSection = (typeof STATUS_SECTIONS)[number];

/** What `herald status` shows, one field per section asked for. */
export interface StatusView {
  vips?: VipList;
  members?: { node: string; members: MemberStatus[] };
  bgp?: { node: string; sessions: BgpSessionStatus[] };
}

/** Reads the sections of a speaker's status (one RPC each, concurrently). */
export async function fetchStatus(
  client: StatusClient,
  want: ReadonlySet<StatusSection> = new Set(STATUS_SECTIONS),
): Promise<StatusView> {
  const [vips, members, bgp] = await Promise.all([
    want.has('vips') ? client.listVips() : undefined,
    want.has('members') ? client.listMembers() : undefined,
    want.has('bgp') ? client.listBgpSessions() : undefined,
  ]);
  return { ...(vips && { vips }), ...(members && { members }), ...(bgp && { bgp }) };
}

/** `herald status` as text (the `herald lab` report shows it too). */
export function formatStatus(view: StatusView): string {
  const parts: string[] = [];
  if (view.vips) parts.push(formatVips(view.vips));
  if (view.members)
    parts.push(`members (${view.members.members.length}):\n${formatMembers(view.members.members)}`);
  if (view.bgp) {
    parts.push(
      view.bgp.sessions.length > 0
        ? `BGP sessions:\n${formatSessions(view.bgp.sessions)}`
        : 'BGP sessions: none\n',
    );
  }
  return parts.join('\n');
}
