export interface L2Entry {
  pool: string;
  vip: string;
  service: string;
  /** L2Advertisement.spec.interfaces; none: the interface whose subnet holds the VIP. */
  interfaces?: readonly string[];
  /** false: the pool is not auto-assigned, the Service names it (herald.dev/address-pool). */
  autoAssign?: boolean;
}

/** A standalone configuration: per entry a one-VIP pool, its L2Advertisement and a Service taking it. */
export function l2Config(entries: readonly L2Entry[]): string {
  return entries
    .map((e) => {
      const manual = e.autoAssign === false;
      const ifaces = e.interfaces ? `, interfaces: [${e.interfaces.join(', ')}]` : '';
      return `apiVersion: herald.dev/v1beta1
kind: IPAddressPool
metadata: {name: ${e.pool}}
spec: {addresses: [${e.vip}/32]${manual ? ', autoAssign: false' : ''}}
---
apiVersion: herald.dev/v1beta1
kind: L2Advertisement
metadata: {name: ${e.pool}}
spec: {ipAddressPools: [${e.pool}]${ifaces}}
---
apiVersion: v1
kind: Service
metadata: {name: ${e.service}${manual ? `, annotations: {herald.dev/address-pool: ${e.pool}}` : ''}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`;
    })
    .join('---\n');
}
