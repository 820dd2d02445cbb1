/**
 * The BFD session state machine and timer arithmetic (RFC 5880 §6.2, §6.8.1–§6.8.7), pure: the caller
 * feeds received packets and detection timeouts with the current time and acts on the returned output.
 */
import { BfdDiag, type BfdPacket, type BfdSessionState } from './packet.js';

export interface BfdMachineConfig {
  desiredMinTxUs: number;
  requiredMinRxUs: number;
  detectMult: number;
  /** RFC 5880 §6.1 passive role: do not send until the peer has been heard. */
  passive: boolean;
}

/** While not Up the desired TX interval must be at least one second (RFC 5880 §6.8.3). */
export const SLOW_TX_US = 1_000_000;

export interface BfdMachineState {
  state: BfdSessionState;
  diag: number;
  localDisc: number;
  remoteDisc: number;
  remoteState: BfdSessionState;
  remoteMinRxUs: number;
  remoteDesiredTxUs: number;
  remoteDetectMult: number;
  /** The TX interval we advertise now (slow until Up). */
  desiredMinTxUs: number;
  /** A Poll Sequence is running: our packets carry P until the peer answers with F. */
  polling: boolean;
  /** Set when the peer polled us: the next packet carries F. */
  sendFinal: boolean;
  heard: boolean;
}

export function initialState(localDisc: number): BfdMachineState {
  return {
    state: 'down',
    diag: BfdDiag.NONE,
    localDisc,
    remoteDisc: 0,
    remoteState: 'down',
    remoteMinRxUs: 1,
    remoteDesiredTxUs: 0,
    remoteDetectMult: 0,
    desiredMinTxUs: SLOW_TX_US,
    polling: false,
    sendFinal: false,
    heard: false,
  };
}

/** Detection time (async mode): remote multiplier × max(our required RX, remote desired TX). */
export function detectionTimeUs(s: BfdMachineState, cfg: BfdMachineConfig): number {
  return s.remoteDetectMult * Math.max(cfg.requiredMinRxUs, s.remoteDesiredTxUs);
}

/** Interval between our packets: max(our desired TX, the peer's required RX); 0 = do not send. */
export function txIntervalUs(s: BfdMachineState, cfg: BfdMachineConfig): number {
  if (s.remoteMinRxUs === 0) return 0;
  if (cfg.passive && !s.heard) return 0;
  return Math.max(s.desiredMinTxUs, s.remoteMinRxUs);
}

/** Jittered interval (75–100 %, or 75–90 % with multiplier 1), `r` uniform in [0, 1). */
export function jitter(intervalUs: number, detectMult: number, r: number): number {
  const span = detectMult === 1 ? 0.15 : 0.25;
  return Math.round(intervalUs * (1 - span * r));
}

export function packetFor(
  s: BfdMachineState,
  cfg: BfdMachineConfig,
): Omit<BfdPacket, 'version' | 'controlPlaneIndependent' | 'authPresent' | 'demand' | 'multipoint'> {
  return {
    diag: s.diag,
    state: s.state,
    poll: s.polling && !s.sendFinal,
    final: s.sendFinal,
    detectMult: cfg.detectMult,
    myDiscriminator: s.localDisc,
    yourDiscriminator: s.remoteDisc,
    desiredMinTxUs: s.desiredMinTxUs,
    requiredMinRxUs: cfg.requiredMinRxUs,
    requiredMinEchoRxUs: 0,
  };
}

export interface BfdStep {
  state: BfdMachineState;
  /** State changed (for the BGP tie-in). */
  changed: boolean;
  /** Send a packet right away (answer to a Poll, or a state change). */
  sendNow: boolean;
}

/** RFC 5880 §6.8.6 reception, after packet validation and discriminator demultiplexing. */
export function receive(prev: BfdMachineState, p: BfdPacket, cfg: BfdMachineConfig): BfdStep {
  const s: BfdMachineState = {
    ...prev,
    heard: true,
    remoteDisc: p.myDiscriminator,
    remoteState: p.state,
    remoteMinRxUs: p.requiredMinRxUs,
    remoteDesiredTxUs: p.desiredMinTxUs,
    remoteDetectMult: p.detectMult,
  };
  let sendNow = false;
  if (p.final && s.polling) s.polling = false;
  if (p.poll) {
    s.sendFinal = true;
    sendNow = true;
  }
  if (s.state === 'admin-down') return { state: prev, changed: false, sendNow: false };
  const before = s.state;
  if (p.state === 'admin-down') {
    if (s.state !== 'down') {
      s.state = 'down';
      s.diag = BfdDiag.NEIGHBOR_DOWN;
    }
  } else if (s.state === 'down') {
    if (p.state === 'down') s.state = 'init';
    else if (p.state === 'init') s.state = 'up';
  } else if (s.state === 'init') {
    if (p.state === 'init' || p.state === 'up') s.state = 'up';
  } else if (p.state === 'down') {
    s.state = 'down';
    s.diag = BfdDiag.NEIGHBOR_DOWN;
  }
  const changed = before !== s.state;
  if (changed) {
    sendNow = true;
    if (s.state === 'up') {
      s.diag = BfdDiag.NONE;
      // Speed up from the 1 s "not Up" rate to the configured rate, announced with a Poll Sequence.
      if (s.desiredMinTxUs !== cfg.desiredMinTxUs) {
        s.desiredMinTxUs = cfg.desiredMinTxUs;
        s.polling = true;
      }
    } else if (s.state === 'down') {
      s.desiredMinTxUs = SLOW_TX_US;
      s.polling = false;
    }
  }
  return { state: s, changed, sendNow };
}

/** Nothing heard within the detection time. */
export function detectionExpired(prev: BfdMachineState): BfdStep {
  if (prev.state !== 'init' && prev.state !== 'up') return { state: prev, changed: false, sendNow: false };
  return {
    state: {
      ...prev,
      state: 'down',
      diag: BfdDiag.DETECTION_TIME_EXPIRED,
      remoteDisc: 0,
      desiredMinTxUs: SLOW_TX_US,
      polling: false,
    },
    changed: true,
    sendNow: true,
  };
}

/** After a packet went out: the Final answer has been given. */
export function sent(prev: BfdMachineState): BfdMachineState {
  return prev.sendFinal ? { ...prev, sendFinal: false } : prev;
}
