/**
 * Incarnation and refutation rules: what a member does with news about another member (or itself).
 * Pure functions; the Memberlist applies the decision (state change, events, re-gossip, timers).
 */
import type { NodeState } from './codec.js';
import type { MemberState } from './types.js';

export interface NodeRecord extends NodeState {
  /** Local clock (ms) of the last state change. */
  changedAt: number;
}

export interface AliveNews {
  node: string;
  incarnation: number;
  addr: string;
  port: number;
  meta: Buffer;
  protocolMin: number;
  protocolMax: number;
}

export interface AccuseNews {
  node: string;
  incarnation: number;
  from: string;
}

export interface LocalView {
  name: string;
  incarnation: number;
  addr: string;
  port: number;
  meta: Buffer;
  leaving: boolean;
}

export type EventName = 'join' | 'suspect' | 'alive' | 'dead' | 'leave' | 'update';

export type Decision =
  | { action: 'ignore'; reason: 'stale' | 'unknown' | 'already-down' | 'self' }
  /** News says we are down (or carries an older/other copy of us): bump to `incarnation` and re-announce. */
  | { action: 'refute'; incarnation: number }
  /** An additional accuser of a member we already suspect. */
  | { action: 'confirm' }
  | { action: 'apply'; next: NodeRecord; events: EventName[] };

const isDown = (s: MemberState): boolean => s === 'dead' || s === 'left';

export function decideAlive(
  cur: NodeRecord | undefined,
  a: AliveNews,
  local: LocalView,
  now: number,
): Decision {
  if (a.node === local.name) {
    if (local.leaving) return { action: 'ignore', reason: 'self' };
    if (a.incarnation < local.incarnation) return { action: 'ignore', reason: 'stale' };
    const same =
      a.incarnation === local.incarnation &&
      a.addr === local.addr &&
      a.port === local.port &&
      a.meta.equals(local.meta);
    if (same) return { action: 'ignore', reason: 'self' };
    // Someone speaks for us with a newer or different identity (e.g. our previous process): outbid it.
    return { action: 'refute', incarnation: Math.max(local.incarnation, a.incarnation) + 1 };
  }
  const fields = {
    name: a.node,
    addr: a.addr,
    port: a.port,
    meta: a.meta,
    incarnation: a.incarnation,
    protocolMin: a.protocolMin,
    protocolMax: a.protocolMax,
    state: 'alive' as const,
    changedAt: now,
  };
  if (!cur) return { action: 'apply', next: fields, events: ['join'] };
  if (a.incarnation <= cur.incarnation) return { action: 'ignore', reason: 'stale' };
  const changed = !cur.meta.equals(a.meta) || cur.addr !== a.addr || cur.port !== a.port;
  const events: EventName[] = [];
  if (isDown(cur.state)) events.push('join');
  else {
    if (cur.state === 'suspect') events.push('alive');
    if (changed) events.push('update');
  }
  return {
    action: 'apply',
    next: { ...fields, changedAt: cur.state === 'alive' ? cur.changedAt : now },
    events,
  };
}

/**
 * Shared part of suspect/dead handling: news about us is refuted (unless we are leaving or it is older
 * than our incarnation); news about others is ignored when unknown, stale or already down.
 */
function accusationPrecheck(
  cur: NodeRecord | undefined,
  news: AccuseNews,
  local: LocalView,
): Decision | undefined {
  if (news.node === local.name) {
    if (local.leaving) return { action: 'ignore', reason: 'self' };
    if (news.incarnation < local.incarnation) return { action: 'ignore', reason: 'stale' };
    return { action: 'refute', incarnation: Math.max(local.incarnation, news.incarnation) + 1 };
  }
  if (!cur) return { action: 'ignore', reason: 'unknown' };
  if (news.incarnation < cur.incarnation) return { action: 'ignore', reason: 'stale' };
  if (isDown(cur.state)) return { action: 'ignore', reason: 'already-down' };
  return undefined;
}

export function decideSuspect(
  cur: NodeRecord | undefined,
  s: AccuseNews,
  local: LocalView,
  now: number,
): Decision {
  const early = accusationPrecheck(cur, s, local);
  if (early || !cur) return early ?? { action: 'ignore', reason: 'unknown' };
  if (cur.state === 'suspect') return { action: 'confirm' };
  return {
    action: 'apply',
    next: { ...cur, incarnation: s.incarnation, state: 'suspect', changedAt: now },
    events: ['suspect'],
  };
}

export function decideDead(
  cur: NodeRecord | undefined,
  d: AccuseNews,
  local: LocalView,
  now: number,
): Decision {
  const early = accusationPrecheck(cur, d, local);
  if (early || !cur) return early ?? { action: 'ignore', reason: 'unknown' };
  const left = d.from === d.node;
  return {
    action: 'apply',
    next: { ...cur, incarnation: d.incarnation, state: left ? 'left' : 'dead', changedAt: now },
    events: [left ? 'leave' : 'dead'],
  };
}
