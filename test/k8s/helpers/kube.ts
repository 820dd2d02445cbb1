import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '../../../src/k8s/client.js';
import type { TestApiServer } from '../apiserver/server.js';
import { runTool, type ToolResult } from './kube-tools.js';

/** A kubectl bound to one test API server, with its own HOME (discovery cache) removed by cleanup(). */
export class Kubectl {
  private readonly home = mkdtempSync(join(tmpdir(), 'herald-kubectl-'));
  private readonly kubeconfigPath = join(this.home, 'kubeconfig');

  constructor(server: TestApiServer) {
    writeFileSync(this.kubeconfigPath, server.kubeconfig());
  }

  run(args: string[], input?: string): Promise<ToolResult> {
    return runTool('kubectl', args, { env: { HOME: this.home, KUBECONFIG: this.kubeconfigPath }, input });
  }

  /** Writes text to a file in the private dir and returns its path (for `-f`). */
  file(name: string, text: string): string {
    const p = join(this.home, name);
    writeFileSync(p, text);
    return p;
  }

  cleanup(): void {
    rmSync(this.home, { recursive: true, force: true });
  }
}

export function kubeConfigFor(server: TestApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return kc;
}

/** Polls until check() returns a truthy value or the deadline passes (then throws with the label). */
export async function eventually<T>(
  label: string,
  check: () => T | Promise<T>,
  timeoutMs = 5000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${label}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `kubectl apply -f FILE` for each file against the server; throws with kubectl's stderr on a refusal. */
export async function kubectlApply(server: TestApiServer, files: string[]): Promise<void> {
  const kubectl = new Kubectl(server);
  try {
    for (const f of files) {
      const r = await kubectl.run(['apply', '-f', f]);
      if (r.code !== 0) throw new Error(`kubectl apply -f ${f}: ${r.stderr}`);
    }
  } finally {
    kubectl.cleanup();
  }
}
