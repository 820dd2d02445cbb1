/**
 * The hand-over in a speaker's log, for the join and restart scenarios of run.ts: when each speaker
 * released VIPs, took VIPs over, opened its liveness gate, changed a watch verdict or (at log level debug)
 * heard a member join, in ms since an
 * instant (the third speaker's (re)start). Pure: reads the JSON log lines the speaker writes.
 */
export interface TimelineEvent {
  node: string;
  /** ms since the instant given to timeline(). */
  ms: number;
  what: string;
}

const KEPT = [
  /^released /,
  /^took over /,
  /^liveness gate open/,
  /^owner watch: /,
  /^speaker started/,
  /^member (join|alive)$/,
];

export function timeline(logs: ReadonlyArray<[node: string, log: string]>, sinceMs: number): TimelineEvent[] {
  const out: TimelineEvent[] = [];
  for (const [node, log] of logs) {
    for (const line of log.split('\n')) {
      if (!line.startsWith('{')) continue;
      let entry: { time?: number; at?: number; msg?: string; by?: string; member?: string };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue;
      }
      const msg = entry.msg ?? '';
      const when = entry.at ?? entry.time;
      if (when === undefined || when < sinceMs || !KEPT.some((k) => k.test(msg))) continue;
      const what = entry.member ? `${msg} ${entry.member}` : entry.by ? `${msg} (by ${entry.by})` : msg;
      out.push({ node, ms: when - sinceMs, what });
    }
  }
  return out.sort((a, b) => a.ms - b.ms);
}

/** One line per event: `+123 ms n1 released 166 VIPs`. */
export function timelineLines(events: readonly TimelineEvent[]): string[] {
  return events.map((e) => `+${Math.round(e.ms)} ms ${e.node} ${e.what}`);
}
