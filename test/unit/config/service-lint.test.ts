import t from 'tap';
import { validateReport } from '../../../src/cli/commands/validate.js';
import { formatProblem, parseConfigTexts } from '../../../src/config/index.js';
import { didYouMean } from '../../../src/config/did-you-mean.js';

// `herald validate` names misspelt Service fields and unknown Herald/MetalLB annotations, with the
// nearest known name; other annotations and every real ServiceSpec field pass.

const file = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: {name: lan}
spec: {addresses: [10.0.0.0/24]}
---
apiVersion: v1
kind: Service
metadata:
  name: s
  annotations:
    herald.dev/loadBalancerIP: 10.0.0.5
    metallb.universe.tf/adress-pool: lan
    herald.dev/healthcheck: "tcp:80"
    herald.dev/whatever: x
    metallb.io/ip-allocated-from-pool: lan
    herald.dev/health-check: "tcp:80"
    example.com/anything: y
spec:
  type: LoadBalancer
  loadbalancerIP: 10.0.0.7
  externalTraficPolicy: Local
  sessionAffinity: None
  internalTrafficPolicy: Cluster
  ports: [{port: 80}]
`;

t.test('unknown annotations and spec fields, with did-you-mean', async (t) => {
  const parsed = parseConfigTexts([{ fileName: 'f.yaml', text: file }]);
  const report = validateReport(parsed, 1);
  t.notOk(report.valid);
  t.same(report.problems.map(formatProblem), [
    'f.yaml:2:metadata.annotations["herald.dev/loadBalancerIP"]: unknown annotation, ignored; did you mean herald.dev/loadBalancerIPs?',
    'f.yaml:2:metadata.annotations["metallb.universe.tf/adress-pool"]: unknown annotation, ignored; did you mean metallb.universe.tf/address-pool?',
    'f.yaml:2:metadata.annotations["herald.dev/healthcheck"]: unknown annotation, ignored; did you mean herald.dev/health-check?',
    'f.yaml:2:metadata.annotations["herald.dev/whatever"]: unknown annotation, ignored',
    'f.yaml:2:spec.loadbalancerIP: not a Service field, ignored; did you mean loadBalancerIP?',
    'f.yaml:2:spec.externalTraficPolicy: not a Service field, ignored; did you mean externalTrafficPolicy?',
  ]);
});

t.test('did you mean: the nearest within reach, or nothing', async (t) => {
  t.equal(didYouMean('adress-pool', ['address-pool', 'allow-shared-ip']), 'address-pool');
  t.equal(didYouMean('LOADBALANCERIP', ['loadBalancerIP', 'loadBalancerClass']), 'loadBalancerIP');
  t.equal(didYouMean('zzz', ['address-pool']), undefined);
  t.equal(didYouMean('b', ['a']), undefined, 'a one-letter name is not a misspelling of another');
});
