import { interfaceIndex, interfaceMac } from '../datapath/netdev.js';
import { autoXdpMode, linkFacts } from '../datapath/xdp-auto.js';
import type { XdpMode } from '../datapath/xdp.js';
import type { NodeInterface } from '../l2/interfaces.js';
import type { AnnouncingInterface } from '../l2/reconciler.js';
import type { Logger } from '../util/log.js';
import { type Link, linkChanges } from './link-changes.js';
import { scanInterfaces } from './local-interfaces.js';

/** What SpeakerLinks needs of the XDP responder (datapath/XdpResponder implements it). */
export interface LinkDatapath {
  attach(ifname: string, mode: XdpMode | 'auto'): XdpMode;
  detach(ifname: string): void;
  forget(ifname: string): void;
}

/** What SpeakerLinks needs of the kernel (netdev.ts, xdp-auto.ts; fakes in unit tests). */
export interface LinkSystem {
  scan(only: readonly string[]): { found: NodeInterface[]; missing: string[] };
  /** The interface's ifindex now, undefined when it does not exist. */
  ifindex(name: string): number | undefined;
  mac(name: string): Buffer;
  /** The mode `--xdp-mode auto` takes on the interface, and why. */
  autoMode(name: string): { mode: XdpMode | 'auto'; reason: string };
  /** A native attachment on a veth whose peer has no XDP program (its replies are dropped). */
  nativeVethWithoutPeer(name: string): boolean;
}

export const KERNEL_LINKS: LinkSystem = {
  scan: scanInterfaces,
  ifindex: (name) => {
    try {
      return interfaceIndex(name);
    } catch {
      return undefined;
    }
  },
  mac: interfaceMac,
  autoMode: (name) => autoXdpMode(linkFacts(name)),
  nativeVethWithoutPeer: (name) => {
    const facts = linkFacts(name);
    return facts.kind === 'veth' && !facts.peerHasXdp;
  },
};

export interface SpeakerLinksOptions {
  /** --interface: only these (missing ones are waited for); empty: every interface with an address. */
  only: readonly string[];
  xdpMode: XdpMode | 'auto';
  datapath: LinkDatapath;
  log: Logger;
  system?: LinkSystem;
}

/**
 * The interfaces the XDP program is attached to, kept in step with the kernel while the speaker runs:
 * an interface that appears with an address (or one named by --interface that comes back) is attached,
 * one that goes away is forgotten, one that loses its addresses is detached. `attached` (name → mode) is
 * what `herald status` and the readiness check show.
 */
export class SpeakerLinks {
  readonly attached = new Map<string, XdpMode>();
  private readonly ifindexes = new Map<string, number>();
  private readonly system: LinkSystem;
  private announcingList: AnnouncingInterface[] = [];
  private missingBefore = '';

  constructor(private readonly opts: SpeakerLinksOptions) {
    this.system = opts.system ?? KERNEL_LINKS;
  }

  /** The attached interfaces with their ifindex and MAC (the L2 reconciler's view). */
  announcing(): readonly AnnouncingInterface[] {
    return this.announcingList;
  }

  /**
   * Reads the interfaces and attaches, detaches or forgets to follow them; returns the interfaces with
   * their addresses (what the node gossips) and whether the attached set changed. An attach that fails
   * is logged and retried at the next call; with `strict` (the start) it throws.
   */
  sync(opts: { strict?: boolean } = {}): { interfaces: NodeInterface[]; changed: boolean } {
    const { found, missing } = this.system.scan(this.opts.only);
    this.reportMissing(missing);
    const wanted: Link[] = [];
    for (const iface of found) {
      const ifindex = this.system.ifindex(iface.name);
      if (ifindex !== undefined) wanted.push({ name: iface.name, ifindex });
    }
    const changes = linkChanges(this.ifindexes, wanted, (n) => this.system.ifindex(n));
    for (const name of changes.forget) {
      this.opts.datapath.forget(name);
      this.drop(name);
      this.opts.log.info({ interface: name }, 'interface gone: XDP attachment forgotten');
    }
    for (const name of changes.detach) {
      try {
        this.opts.datapath.detach(name);
        this.opts.log.info({ interface: name }, 'interface without an address: XDP detached');
      } catch (error) {
        this.opts.log.warn({ interface: name, err: error }, 'XDP detach failed');
      }
      this.drop(name);
    }
    const failed = new Set<string>();
    for (const link of changes.attach) if (!this.attach(link, opts.strict ?? false)) failed.add(link.name);
    const changed = changes.attach.length + changes.detach.length + changes.forget.length > 0;
    // Read every time: a MAC changed in place (same ifindex) must reach the answers too.
    this.announcingList = this.buildAnnouncing();
    return { interfaces: found.filter((i) => this.attached.has(i.name) && !failed.has(i.name)), changed };
  }

  private attach(link: Link, strict: boolean): boolean {
    const { name } = link;
    try {
      const choice =
        this.opts.xdpMode === 'auto'
          ? this.system.autoMode(name)
          : { mode: this.opts.xdpMode, reason: 'asked for with --xdp-mode' };
      const mode = this.opts.datapath.attach(name, choice.mode);
      this.attached.set(name, mode);
      this.ifindexes.set(name, link.ifindex);
      this.opts.log.info({ interface: name, mode, reason: choice.reason }, `XDP attached in ${mode} mode`);
      if (mode === 'native' && this.system.nativeVethWithoutPeer(name))
        this.opts.log.warn(
          { interface: name },
          'native XDP on a veth whose peer has no XDP program: replies are dropped (use --xdp-mode generic)',
        );
      return true;
    } catch (error) {
      if (strict) throw error;
      this.opts.log.warn({ interface: name, err: error }, 'XDP attach failed; retried at the next resync');
      return false;
    }
  }

  private drop(name: string): void {
    this.attached.delete(name);
    this.ifindexes.delete(name);
  }

  private buildAnnouncing(): AnnouncingInterface[] {
    const out: AnnouncingInterface[] = [];
    for (const [name, ifindex] of this.ifindexes) {
      try {
        out.push({ name, ifindex, mac: this.system.mac(name) });
      } catch {
        // gone since the scan: the next sync forgets it
      }
    }
    return out;
  }

  /** Logs once per change which --interface names are missing now (waited for, not an error). */
  private reportMissing(missing: readonly string[]): void {
    const key = missing.join(',');
    if (key === this.missingBefore) return;
    this.missingBefore = key;
    if (missing.length > 0)
      this.opts.log.warn(
        { interfaces: missing },
        'interface(s) named with --interface gone or without an address: attached again when they come back',
      );
  }
}
