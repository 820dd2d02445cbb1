/**
 * Incarnation and refutation rules: what a member does with news about another member (or itself).
 * Pure functions; the Memberlist applies the decision (state change, events, re-gossip, timers).
 */
import type { NodeState } from './codec.js';
import { compareIncarnation, nextIncarnation } from './incarnation.js';
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

export interface Endpoint {
  addr: string;
  port: number;
}

export type EventName = 'join' | 'suspect' | 'alive' | 'dead' | 'leave' | 'update';

export type Decision =
  /** `implausible`: an incarnation too far ahead to be real news (see incarnation.ts). */
  | { action: 'ignore'; reason: 'stale' | 'unknown' | 'already-down' | 'self' | 'implausible' }
  /**
   * Another process claims a name that is up at another address (a cloned host, a reused --node): the
   * news is ignored, never outbid, so there are never two members with one name.
   */
  | { action: 'conflict'; node: string; known: Endpoint; claimed: Endpoint }
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
    // Our name claimed at another address, whatever the incarnation (incarnations of two processes say
    // nothing about which is real): another process uses our name. Ignored and reported, never outbid.
    if (a.addr !== local.addr || a.port !== local.port) return conflict(a, local);
    const order = compareIncarnation(a.incarnation, local.incarnation);
    if (order === 'older') return { action: 'ignore', reason: 'stale' };
    if (order === 'implausible') return { action: 'ignore', reason: 'implausible' };
    if (order === 'same' && a.meta.equals(local.meta)) return { action: 'ignore', reason: 'self' };
    // Someone speaks for us with a newer or different identity (e.g. our previous process): outbid it.
    return {
      action: 'refute',
      incarnation: nextIncarnation(order === 'newer' ? a.incarnation : local.incarnation),
    };
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
  const moved = cur.addr !== a.addr || cur.port !== a.port;
  if (moved && !isDown(cur.state)) return conflict(a, cur);
  const order = compareIncarnation(a.incarnation, cur.incarnation);
  if (order === 'implausible') return { action: 'ignore', reason: 'implausible' };
  // A member that is down may come back at another address (a new process elsewhere) at any incarnation.
  if (order !== 'newer' && !moved) return { action: 'ignore', reason: 'stale' };
  const changed = !cur.meta.equals(a.meta) || moved;
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

function conflict(a: AliveNews, known: Endpoint): Decision {
  return {
    action: 'conflict',
    node: a.node,
    known: { addr: known.addr, port: known.port },
    claimed: { addr: a.addr, port: a.port },
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
    const order = compareIncarnation(news.incarnation, local.incarnation);
    if (order === 'older') return { action: 'ignore', reason: 'stale' };
    if (order === 'implausible') return { action: 'ignore', reason: 'implausible' };
    return {
      action: 'refute',
      incarnation: nextIncarnation(order === 'newer' ? news.incarnation : local.incarnation),
    };
  }
  if (!cur) return { action: 'ignore', reason: 'unknown' };
  const order = compareIncarnation(news.incarnation, cur.incarnation);
  if (order === 'older') return { action: 'ignore', reason: 'stale' };
  if (order === 'implausible') return { action: 'ignore', reason: 'implausible' };
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
