import t from 'tap';
import {
  formatProblem,
  parseConfigTexts,
  serviceHealthCheck,
  type Service,
} from '../../../src/config/index.js';

const svc = (annotations: Record<string, string>): Service =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', annotations },
    spec: { type: 'LoadBalancer', ports: [{ port: 80 }] },
  }) as Service;
const HC = 'herald.dev/health-check';
const TIMING = 'herald.dev/health-check-timing';

t.test('valid checks and their defaults', async (t) => {
  const cases: Array<[Record<string, string>, unknown]> = [
    [{ [HC]: 'tcp:80' }, { kind: 'tcp', port: 80 }],
    [{ [HC]: 'http:8080/healthz' }, { kind: 'http', port: 8080, path: '/healthz' }],
    [{ [HC]: 'http:80' }, { kind: 'http', port: 80, path: '/' }],
    [{ [HC]: 'https:443/a/b?x=1' }, { kind: 'https', port: 443, path: '/a/b?x=1' }],
    [{ [HC]: 'exec:/usr/bin/test -f /tmp/up' }, { kind: 'exec', command: '/usr/bin/test -f /tmp/up' }],
  ];
  for (const [ann, probe] of cases) {
    const { check, problems } = serviceHealthCheck(svc(ann));
    t.same(problems, [], String(ann[HC]));
    t.same(check?.probe, probe, String(ann[HC]));
    t.same(check?.timing, { intervalMs: 1000, timeoutMs: 500, fall: 2, rise: 2 }, `${ann[HC]} defaults`);
  }
  const { check } = serviceHealthCheck(svc({ [HC]: 'tcp:80', [TIMING]: 'interval=200ms, rise=5 ,fall=1' }));
  t.same(check?.timing, { intervalMs: 200, timeoutMs: 200, fall: 1, rise: 5 }, 'default timeout ≤ interval');
});

t.test('a timeout longer than the interval is refused', async (t) => {
  const { problems } = serviceHealthCheck(svc({ [HC]: 'tcp:80', [TIMING]: 'interval=200ms,timeout=500ms' }));
  t.same(problems, [
    {
      path: `metadata.annotations["${TIMING}"]`,
      message: 'timeout 500ms is longer than the interval 200ms',
    },
  ]);
});

t.test('precise problems', async (t) => {
  const cases: Array<[Record<string, string>, string]> = [
    [
      { [HC]: 'udp:53' },
      'unknown health check kind "udp": use tcp:PORT, http:PORT/PATH, https:PORT/PATH or exec:COMMAND',
    ],
    [{ [HC]: '' }, 'empty health check: use tcp:PORT, http:PORT/PATH, https:PORT/PATH or exec:COMMAND'],
    [{ [HC]: 'tcp:' }, 'port missing'],
    [{ [HC]: 'tcp:http' }, 'port "http" is not a number from 1 to 65535'],
    [{ [HC]: 'tcp:70000' }, 'port "70000" is not a number from 1 to 65535'],
    [{ [HC]: 'http:80/a b' }, 'path "/a b" contains white space'],
    [{ [HC]: 'exec:  ' }, 'exec needs a command: exec:COMMAND'],
    [
      { [HC]: 'tcp:80', [TIMING]: 'every=1s' },
      'unknown timing "every": use interval=, timeout=, fall=, rise=',
    ],
    [
      { [HC]: 'tcp:80', [TIMING]: 'interval=fast' },
      'interval "fast" is not a positive duration like 1s or 500ms',
    ],
    [{ [HC]: 'tcp:80', [TIMING]: 'timeout=0' }, 'timeout "0" is not a positive duration like 1s or 500ms'],
    [{ [HC]: 'tcp:80', [TIMING]: 'fall=0' }, 'fall "0" is not a whole number from 1 to 100'],
    [{ [HC]: 'tcp:80', [TIMING]: 'rise=2.5' }, 'rise "2.5" is not a whole number from 1 to 100'],
    [{ [HC]: 'tcp:80', [TIMING]: 'rise=2,rise=3' }, 'rise given twice'],
    [{ [HC]: 'tcp:80', [TIMING]: 'interval=2h' }, 'interval 2h0m0s is outside 100ms..1h'],
    [{ [TIMING]: 'fall=3' }, 'set without herald.dev/health-check'],
  ];
  for (const [ann, message] of cases) {
    const { check, problems } = serviceHealthCheck(svc(ann));
    t.equal(check, undefined, `${JSON.stringify(ann)}: no check`);
    t.same(
      problems.map((p) => p.message),
      [message],
      JSON.stringify(ann),
    );
  }
});

t.test('herald validate reports them with the annotation path', async (t) => {
  const yaml = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: {name: lan}
spec: {addresses: [10.0.0.0/24]}
---
apiVersion: v1
kind: Service
metadata:
  name: web
  annotations: {herald.dev/health-check: "tcp:x"}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`;
  const { problems } = parseConfigTexts([{ fileName: 'c.yaml', text: yaml }]);
  t.match(problems.map(formatProblem), [
    /2:metadata\.annotations\["herald\.dev\/health-check"\]: port "x" is not/,
  ]);
});
