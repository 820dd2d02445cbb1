/**
 * Standalone configurations with N L2 services, each at a known address (its own requested IP). The
 * pool (10.90.0.0/18) is not on the lab LAN's /24, so the L2Advertisement names the interface: without
 * it no node has an announcing interface for the VIPs and every speaker only suppresses them (no
 * announcement, no owner-watch pair: what this bench measured before 2026-11-28 08:10).
 */

export function footprintVip(i: number): string {
  const n = i + 1;
  return `10.90.${Math.floor(n / 256)}.${n % 256}`;
}

/** Service i, its endpoints on nodes n1..n`nodes` (every speaker of a cluster is eligible for it). */
export function footprintService(i: number, nodes = 1): string {
  const endpoints = Array.from({ length: nodes }, (_, n) => `{ nodeName: n${n + 1} }`).join(', ');
  return `---
apiVersion: v1
kind: Service
metadata: { name: s${i}, namespace: fp, annotations: { herald.dev/loadBalancerIPs: "${footprintVip(i)}" } }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: s${i}, namespace: fp, labels: { kubernetes.io/service-name: s${i} } }
endpoints: [${endpoints}]
`;
}

export function footprintConfig(services: number, nodes = 1): string {
  let text = `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: fp }
spec: { addresses: [10.90.0.0/18] }
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: fp }
spec: { ipAddressPools: [fp], interfaces: [eth0] }
`;
  for (let i = 0; i < services; i++) text += footprintService(i, nodes);
  return text;
}
