/**
 * The pulse thread (watch-thread.ts starts it): runs the owner watch, which sends the watch packets and
 * refreshes the XDP heartbeat, apart from the speaker's control loop.
 */
import { parentPort } from 'node:worker_threads';
import { socketsNative } from '../bgp/native-sockets.js';
import { HeartbeatWriter } from '../datapath/heartbeat-writer.js';
import { kernelMonotonicNs } from '../datapath/responder.js';
import { OwnerWatch } from '../l2/watch/driver.js';
import { setThreadNice } from '../util/thread-priority.js';
import { pinnedTakeoverIo, WatchTakeover } from './watch-takeover.js';
import type { FromWatchWorker, ToWatchWorker, WatchWorkerData } from './watch-thread.js';

function run(port: NonNullable<typeof parentPort>, data: WatchWorkerData): void {
  const send = (m: FromWatchWorker) => port.postMessage(m);
  // Before anything else: this thread keeps the gate open, and on a host loaded beyond its CPUs a thread
  // at the default priority waited 100-250 ms for a CPU (heartbeat ages above the liveness bound).
  const priority = setThreadNice(data.nice);
  const writer = HeartbeatWriter.openPinned(data.pinDir);
  const stamp = new Float64Array(data.stamp);
  const peerPorts = new Map<string, number>();
  const nowMs = () => Number(kernelMonotonicNs()) / 1e6;
  const watch = new OwnerWatch({
    timing: data.timing,
    detectMult: data.detectMult,
    capMs: data.capMs,
    peerPort: (name) => peerPorts.get(name) ?? data.port,
    socket: (onMessage) =>
      new (socketsNative().UdpTtlSocket)(data.family, data.host, data.port, 255, onMessage),
    clockNs: kernelMonotonicNs,
    beat: (ns) => writer.beat(ns),
    controlLoopAlive: () => nowMs() - (stamp[0] ?? 0) < data.controlLoopStallMs,
  });
  const takeover = new WatchTakeover(pinnedTakeoverIo(data.pinDir), (message) =>
    send({ type: 'warning', message }),
  );
  watch.on('verdict', (event) => {
    // A down owner's armed VIPs answer here at once (speaker/watch-takeover.ts); never while this node's
    // own gate is shut (stale: its answers would be silent, and it may be the side that was cut off).
    // The watch marks that owner holding from this verdict until the control loop has read it.
    const took = event.verdict === 'down' && watch.fresh() ? takeover.fire(event.peer) : undefined;
    send({ type: 'verdict', event: { ...event, at: Date.now(), ...(took ? { took } : {}) } });
  });
  watch.on('stale', (event) => send({ type: 'stale', event }));
  watch.on('refreshed', (event) => send({ type: 'refreshed', event }));
  watch.on('overdue', (event) => send({ type: 'overdue', event }));
  watch.on('readiness', (event) => send({ type: 'readiness', event }));
  watch.listen();
  port.on('message', (m: ToWatchWorker) => {
    switch (m.type) {
      case 'start':
        watch.start();
        break;
      case 'ready':
        watch.setReady();
        break;
      case 'applied':
        watch.applied();
        break;
      case 'targets':
        for (const [name, p] of m.peers) peerPorts.set(name, p.port);
        watch.setTargets(
          { watching: new Set(m.watching), watchedBy: new Set(m.watchedBy) },
          new Map(m.peers.map(([name, p]) => [name, p.address])),
          new Set(m.gone),
        );
        break;
      case 'holding':
        watch.setHolding(new Set(m.peers), m.seen);
        break;
      case 'armed':
        takeover.arm(m.byOwner);
        break;
      case 'stop':
        watch.stop({ adminDown: m.adminDown });
        writer.close();
        takeover.close();
        send({ type: 'stopped' });
        port.close();
        break;
    }
  });
  send({ type: 'listening', priority });
}

// Started before its settings are known (WatchThread.prepare): its modules load meanwhile; the first
// message brings the settings.
const port = parentPort;
port?.once('message', (m: ToWatchWorker) => {
  try {
    if (m.type !== 'init') throw new Error(`owner watch thread: expected its settings first, got ${m.type}`);
    run(port, m.data);
  } catch (error) {
    port.postMessage({
      type: 'failed',
      message: error instanceof Error ? error.message : String(error),
    } satisfies FromWatchWorker);
  }
});
