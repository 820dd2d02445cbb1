import t from 'tap';
import { timeline, timelineLines } from '../../../bench/scale/timeline.js';

const line = (o: Record<string, unknown>) => JSON.stringify({ level: 30, pid: 1, ...o });

t.test(
  'timeline: releases, takeovers, gate openings and joins after the instant, in time order',
  async (t) => {
    const n1 = [
      line({ time: 900, msg: 'released 3 VIPs', count: 3, at: 890 }),
      line({ time: 1050, msg: 'released 166 VIPs', count: 166, at: 1040 }),
      line({ time: 1010, msg: 'member join', member: 'n3', level: 20 }),
      line({ time: 1100, msg: 'host VIP addresses' }),
      'not json',
    ].join('\n');
    const n3 = [
      line({ time: 1000, msg: 'speaker started' }),
      line({ time: 1120, msg: 'took over 12 VIPs', at: 1110, by: 'owner watch' }),
      line({ time: 1130, msg: 'liveness gate open', reason: 'start' }),
      line({ time: 1140, msg: 'owner watch: n1 up' }),
      '{"broken',
    ].join('\n');
    const events = timeline(
      [
        ['n1', n1],
        ['n3', n3],
      ],
      1000,
    );
    t.same(timelineLines(events), [
      '+0 ms n3 speaker started',
      '+10 ms n1 member join n3',
      '+40 ms n1 released 166 VIPs',
      '+110 ms n3 took over 12 VIPs (by owner watch)',
      '+130 ms n3 liveness gate open',
      '+140 ms n3 owner watch: n1 up',
    ]);
  },
);
