/** Standalone configurations with many L2 VIPs, for the scale test and benchmarks. */

/** The /16 the scale pool allocates from (the client routes it on-link, so it ARPs for every VIP). */
export const SCALE_NET4 = '10.80';

/**
 * A pool of `count` IPv4 addresses and one LoadBalancer Service per address, each with an EndpointSlice
 * naming every node as ready, advertised on eth0 (the pool is not the LAN's subnet), so every node is a
 * candidate for every VIP.
 */
export function scaleConfig(count: number, nodes: readonly string[] = ['n1', 'n2', 'n3']): string {
  if (count < 1 || count > 65_000) throw new Error(`scaleConfig: 1..65000 VIPs, got ${count}`);
  const last = count - 1;
  const docs = [
    `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: { name: scale }
spec: { addresses: ["${SCALE_NET4}.0.0-${SCALE_NET4}.${last >> 8}.${last & 255}"] }`,
    `apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: { name: scale }
spec: { ipAddressPools: [scale], interfaces: [eth0] }`,
  ];
  for (let i = 0; i < count; i++) {
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: s${i}, namespace: scale }
spec: { type: LoadBalancer, ports: [{ port: 80 }] }`);
    docs.push(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: s${i}, namespace: scale, labels: { kubernetes.io/service-name: s${i} } }
endpoints: [${nodes.map((n) => `{ nodeName: ${n} }`).join(', ')}]`);
  }
  return `${docs.join('\n---\n')}\n`;
}
