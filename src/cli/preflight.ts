import { existsSync, readFileSync, statfsSync } from 'node:fs';
import { homedir, networkInterfaces } from 'node:os';
import { dirname, resolve } from 'node:path';
import { interfaceExists } from '../speaker/local-interfaces.js';
import { type HostFacts, parseCapEff, preflightProblem } from './preflight-rules.js';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

/** Nearest existing directory at or above `dir`, with its filesystem type. */
function pinBase(dir: string): HostFacts['pinBase'] {
  let at = resolve(dir);
  for (;;) {
    try {
      return { dir: at, fsType: statfsSync(at).type };
    } catch {
      const up = dirname(at);
      if (up === at) return { dir: at, fsType: 0 };
      at = up;
    }
  }
}

function hasKubernetesCredentials(kubeconfig: string | undefined): boolean {
  if (kubeconfig) return true; // a bad file is reported by the client with its own message
  const env = process.env.KUBECONFIG?.split(':').filter(Boolean) ?? [];
  if (env.some((f) => existsSync(f))) return true;
  if (existsSync(`${homedir()}/.kube/config`)) return true;
  return Boolean(process.env.KUBERNETES_SERVICE_HOST) && existsSync(SERVICE_ACCOUNT_TOKEN);
}

/**
 * Checks the host before the speaker touches the data path: a config source, capabilities, a bpffs for
 * the pins, the named interfaces. Throws one clear line (the CLI prints it and exits 1).
 */
export function preflight(opts: {
  config?: string;
  kubeconfig?: string;
  pinDir: string;
  interfaces: readonly string[];
}): void {
  let status = '';
  try {
    status = readFileSync('/proc/self/status', 'utf8');
  } catch {
    // no /proc: the capability rule reports what is missing
  }
  const problem = preflightProblem({
    effectiveCaps: parseCapEff(status),
    pinBase: pinBase(opts.pinDir),
    pinDir: opts.pinDir,
    hasConfigSource: opts.config !== undefined || hasKubernetesCredentials(opts.kubeconfig),
    missingInterfaces: opts.interfaces.filter((i) => !interfaceExists(i)),
    interfaces: Object.keys(networkInterfaces()).sort(),
  });
  if (problem) throw new Error(problem);
}
