import { execFileSync } from 'node:child_process';
import type { XdpMode } from './xdp-policy.js';

/** What decides `--xdp-mode auto` on one interface (from `ip -d link`). */
export interface LinkFacts {
  kind: string | undefined;
  /** veth: the peer's name when it lives in this network namespace. */
  peer: string | undefined;
  /** veth: whether that peer has an XDP program attached. */
  peerHasXdp: boolean;
}

/**
 * The mode `auto` uses on an interface, and why (logged at start-up). Native XDP on a veth sends its
 * XDP_TX replies into the peer, which drops them unless the peer has an XDP program of its own: the
 * speaker would count replies nobody receives. Generic mode delivers them.
 */
export function autoXdpMode(link: LinkFacts): { mode: XdpMode | 'auto'; reason: string } {
  if (link.kind !== 'veth') {
    return { mode: 'auto', reason: 'native where the driver supports it, else generic' };
  }
  if (link.peer !== undefined && link.peerHasXdp) {
    return {
      mode: 'native',
      reason: `veth whose peer ${link.peer} has an XDP program: native replies arrive`,
    };
  }
  const where = link.peer === undefined ? 'in another network namespace' : `${link.peer} (no XDP program)`;
  return {
    mode: 'generic',
    reason: `veth: native XDP_TX replies are dropped unless the peer has an XDP program; peer ${where}`,
  };
}

interface IpLink {
  link?: string;
  link_netnsid?: number;
  linkinfo?: { info_kind?: string };
  xdp?: unknown;
}

function ipLink(ifname: string): IpLink | undefined {
  try {
    const out = execFileSync('ip', ['-j', '-d', 'link', 'show', 'dev', ifname], { encoding: 'utf8' });
    return (JSON.parse(out) as IpLink[])[0];
  } catch {
    return undefined;
  }
}

/** Reads the facts `autoXdpMode` needs with iproute2 (in this network namespace). */
export function linkFacts(ifname: string): LinkFacts {
  const link = ipLink(ifname);
  const kind = link?.linkinfo?.info_kind;
  const peer = kind === 'veth' && link?.link_netnsid === undefined ? link?.link : undefined;
  return { kind, peer, peerHasXdp: peer !== undefined && ipLink(peer)?.xdp !== undefined };
}
