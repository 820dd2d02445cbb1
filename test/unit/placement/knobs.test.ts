import t from 'tap';
import { parseConfigDocuments } from '../../../src/config/parse.js';
import { DEFAULT_PLACEMENT_KNOBS } from '../../../src/placement/decide.js';
import { placementKnobs } from '../../../src/placement/knobs.js';

t.test('spec.placement knobs: defaults and overrides', async (t) => {
  t.same(placementKnobs({ by: 'bandwidth' }), DEFAULT_PLACEMENT_KNOBS);
  t.same(
    placementKnobs({
      by: 'bandwidth',
      utilizationThreshold: 0.8,
      sustain: '1m',
      minGain: 0.1,
      minMoveInterval: '10m',
    }),
    {
      ...DEFAULT_PLACEMENT_KNOBS,
      thresholdRatio: 0.8,
      sustainMs: 60_000,
      minGainRatio: 0.1,
      minMoveIntervalMs: 600_000,
    },
  );
});

const ad = (placement: string) => `apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec:
  placement: ${placement}
`;

t.test('spec.placement is validated with the field path', async (t) => {
  t.same(parseConfigDocuments(ad('{ by: bandwidth, sustain: 45s }'), 'a.yaml').problems, []);
  const bad = parseConfigDocuments(
    ad('{ by: bandwidth, sustain: soon, utilizationThreshold: 1.5 }'),
    'a.yaml',
  );
  const text = bad.problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  t.match(text, /spec\.placement\.utilizationThreshold/);
  const badDuration = parseConfigDocuments(ad('{ by: bandwidth, sustain: soon }'), 'a.yaml');
  t.match(
    badDuration.problems.map((p) => `${p.path}: ${p.message}`).join('\n'),
    /spec\.placement\.sustain: "soon" is not a duration/,
  );
  const badBy = parseConfigDocuments(ad('{ by: traffic }'), 'a.yaml');
  t.match(badBy.problems.map((p) => p.path).join('\n'), /spec\.placement\.by/);
});
