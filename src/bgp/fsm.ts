/**
 * The BGP finite state machine of one connection (RFC 4271 §8), as a pure function:
 * `step(state, event, config)` returns the next state and the actions the session layer performs
 * (socket operations, timers, messages). No I/O and no clocks here, so every transition is table-tested.
 */
import { CeaseSubcode, ErrorCode } from './wire/constants.js';
import { BgpError } from './wire/errors.js';
import { openAsn, type OpenMessage } from './wire/open.js';

export type FsmState = 'idle' | 'connect' | 'active' | 'opensent' | 'openconfirm' | 'established';
export type Timer = 'connectRetry' | 'hold' | 'keepalive';

export interface FsmConfig {
  localAsn: number;
  /** Expected peer ASN; undefined accepts any (the peer's ASN is then whatever its OPEN says). */
  peerAsn?: number;
  /** With no fixed peerAsn: 'external' refuses a peer in our own AS. */
  dynamicAsn?: 'internal' | 'external';
  holdTimeSec: number;
  connectRetrySec: number;
  /** Never open connections, only accept them. */
  passive: boolean;
}

export interface Negotiated {
  holdTimeSec: number;
  keepaliveSec: number;
  peerAsn: number;
  peerOpen: OpenMessage;
}

export type FsmEvent =
  | { type: 'start' }
  | { type: 'stop'; subcode?: number }
  | { type: 'tcp-connected' }
  | { type: 'tcp-failed' }
  | { type: 'tcp-closed' }
  | { type: 'timer'; timer: Timer }
  | { type: 'open'; open: OpenMessage }
  | { type: 'keepalive' }
  | { type: 'update' }
  | { type: 'route-refresh' }
  | { type: 'notification'; code: number; subcode: number }
  | { type: 'decode-error'; error: BgpError };

export type FsmAction =
  | { type: 'connect' }
  | { type: 'close' }
  | { type: 'send-open' }
  | { type: 'send-keepalive' }
  | { type: 'send-notification'; code: number; subcode: number; data?: Buffer; reason: string }
  | { type: 'set-timer'; timer: Timer; seconds: number }
  | { type: 'clear-timer'; timer: Timer }
  | { type: 'established'; negotiated: Negotiated }
  | { type: 'deliver'; event: 'update' | 'route-refresh' }
  | { type: 'down'; reason: string };

export interface FsmResult {
  state: FsmState;
  actions: FsmAction[];
  negotiated?: Negotiated;
}

/** Hold time used while waiting for the peer's OPEN (RFC 4271 §8.2.2 suggests 4 minutes). */
export const LARGE_HOLD_SEC = 240;

const ALL_TIMERS: Timer[] = ['connectRetry', 'hold', 'keepalive'];

function reset(reason: string, extra: FsmAction[] = []): FsmResult {
  return {
    state: 'idle',
    actions: [
      ...extra,
      { type: 'close' },
      ...ALL_TIMERS.map((timer) => ({ type: 'clear-timer' as const, timer })),
      { type: 'down', reason },
    ],
  };
}

function notifyAndReset(code: number, subcode: number, reason: string, data?: Buffer): FsmResult {
  return reset(reason, [{ type: 'send-notification', code, subcode, reason, ...(data ? { data } : {}) }]);
}

/** Validates the peer's OPEN against the configuration and negotiates timers (RFC 4271 §6.2, §4.2). */
export function negotiate(open: OpenMessage, cfg: FsmConfig): Negotiated {
  const peerAsn = openAsn(open);
  if (cfg.peerAsn !== undefined && peerAsn !== cfg.peerAsn)
    throw new BgpError(ErrorCode.OPEN_MESSAGE, 2, `OPEN: peer AS ${peerAsn}, expected ${cfg.peerAsn}`);
  if (cfg.peerAsn === undefined && cfg.dynamicAsn === 'external' && peerAsn === cfg.localAsn)
    throw new BgpError(
      ErrorCode.OPEN_MESSAGE,
      2,
      `OPEN: peer AS ${peerAsn} is our own AS, expected an external peer`,
    );
  const holdTimeSec = Math.min(open.holdTime, cfg.holdTimeSec);
  return { holdTimeSec, keepaliveSec: Math.floor(holdTimeSec / 3), peerAsn, peerOpen: open };
}

function fsmError(state: FsmState, what: string): FsmResult {
  const subcode = state === 'opensent' ? 1 : state === 'openconfirm' ? 2 : 3; // RFC 6608
  return notifyAndReset(ErrorCode.FSM, subcode, `unexpected ${what} in ${state}`);
}

export function step(state: FsmState, event: FsmEvent, cfg: FsmConfig, negotiated?: Negotiated): FsmResult {
  const stay = (actions: FsmAction[] = []): FsmResult => ({
    state,
    actions,
    ...(negotiated ? { negotiated } : {}),
  });
  if (event.type === 'stop') {
    if (state === 'idle') return stay();
    if (state === 'opensent' || state === 'openconfirm' || state === 'established')
      return notifyAndReset(ErrorCode.CEASE, event.subcode ?? CeaseSubcode.ADMIN_SHUTDOWN, 'stopped');
    return reset('stopped');
  }
  if (event.type === 'decode-error' && state !== 'idle' && state !== 'connect' && state !== 'active')
    return notifyAndReset(event.error.code, event.error.subcode, event.error.message, event.error.data);
  if (event.type === 'notification' && state !== 'idle')
    return reset(`peer sent NOTIFICATION ${event.code}/${event.subcode}`);

  switch (state) {
    case 'idle':
      if (event.type !== 'start') return stay();
      if (cfg.passive) return { state: 'active', actions: [] };
      return {
        state: 'connect',
        actions: [
          { type: 'connect' },
          { type: 'set-timer', timer: 'connectRetry', seconds: cfg.connectRetrySec },
        ],
      };

    case 'connect':
    case 'active':
      switch (event.type) {
        case 'tcp-connected':
          return {
            state: 'opensent',
            actions: [
              { type: 'clear-timer', timer: 'connectRetry' },
              { type: 'send-open' },
              { type: 'set-timer', timer: 'hold', seconds: LARGE_HOLD_SEC },
            ],
          };
        case 'tcp-failed':
        case 'tcp-closed':
          return {
            state: 'active',
            actions: cfg.passive
              ? []
              : [{ type: 'set-timer', timer: 'connectRetry', seconds: cfg.connectRetrySec }],
          };
        case 'timer':
          if (event.timer !== 'connectRetry' || cfg.passive) return stay();
          return {
            state: 'connect',
            actions: [
              { type: 'close' },
              { type: 'connect' },
              { type: 'set-timer', timer: 'connectRetry', seconds: cfg.connectRetrySec },
            ],
          };
        case 'start':
          return stay();
        default:
          return reset(`unexpected ${event.type} without a connection`);
      }

    case 'opensent':
      switch (event.type) {
        case 'open': {
          let n: Negotiated;
          try {
            n = negotiate(event.open, cfg);
          } catch (e) {
            const be = e as BgpError;
            return notifyAndReset(be.code, be.subcode, be.message);
          }
          const actions: FsmAction[] = [{ type: 'send-keepalive' }];
          if (n.holdTimeSec > 0)
            actions.push(
              { type: 'set-timer', timer: 'hold', seconds: n.holdTimeSec },
              { type: 'set-timer', timer: 'keepalive', seconds: n.keepaliveSec },
            );
          else actions.push({ type: 'clear-timer', timer: 'hold' });
          return { state: 'openconfirm', actions, negotiated: n };
        }
        case 'tcp-closed':
        case 'tcp-failed':
          return reset('connection closed in OpenSent');
        case 'timer':
          if (event.timer === 'hold')
            return notifyAndReset(ErrorCode.HOLD_TIMER_EXPIRED, 0, 'hold timer expired');
          return stay();
        case 'start':
          return stay();
        default:
          return fsmError(state, event.type);
      }

    case 'openconfirm':
    case 'established':
      switch (event.type) {
        case 'keepalive':
        case 'update':
        case 'route-refresh': {
          if (state === 'openconfirm' && event.type !== 'keepalive') return fsmError(state, event.type);
          const actions: FsmAction[] = [];
          if (negotiated && negotiated.holdTimeSec > 0)
            actions.push({ type: 'set-timer', timer: 'hold', seconds: negotiated.holdTimeSec });
          if (state === 'openconfirm' && negotiated) {
            actions.push({ type: 'established', negotiated });
            return { state: 'established', actions, negotiated };
          }
          if (event.type !== 'keepalive') actions.push({ type: 'deliver', event: event.type });
          return stay(actions);
        }
        case 'timer':
          if (event.timer === 'hold')
            return notifyAndReset(ErrorCode.HOLD_TIMER_EXPIRED, 0, 'hold timer expired');
          if (event.timer === 'keepalive' && negotiated && negotiated.keepaliveSec > 0)
            return stay([
              { type: 'send-keepalive' },
              { type: 'set-timer', timer: 'keepalive', seconds: negotiated.keepaliveSec },
            ]);
          return stay();
        case 'tcp-closed':
        case 'tcp-failed':
          return reset(`connection closed in ${state}`);
        case 'start':
          return stay();
        default:
          return fsmError(state, event.type);
      }
  }
}
