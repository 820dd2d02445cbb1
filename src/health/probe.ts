import { spawn } from 'node:child_process';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import type { HealthProbe } from '../config/index.js';
import type { ProbeResult } from './state.js';

// Not `import ... from 'node:http'`: see the no-restricted-syntax rule in eslint.config.js.
const { request: httpRequest } = process.getBuiltinModule('node:http');

/** Where a check reaches "the node itself": its loopback address. */
export const PROBE_HOST = '127.0.0.1';

export interface ProbeContext {
  timeoutMs: number;
  /** Extra environment for exec checks (HERALD_SERVICE, HERALD_NODE). */
  env?: Record<string, string>;
  host?: string;
}

/** Runs one probe; never rejects, never outlives its timeout (a hung command is killed). */
export function runProbe(probe: HealthProbe, ctx: ProbeContext): Promise<ProbeResult> {
  switch (probe.kind) {
    case 'tcp':
      return tcpProbe(ctx.host ?? PROBE_HOST, probe.port, ctx.timeoutMs);
    case 'http':
    case 'https':
      return httpProbe(probe.kind, ctx.host ?? PROBE_HOST, probe.port, probe.path, ctx.timeoutMs);
    case 'exec':
      return execProbe(probe.command, ctx.timeoutMs, ctx.env ?? {});
  }
}

function describeError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') return 'connect refused';
  if (code === 'ECONNRESET') return 'connection reset';
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return 'unreachable';
  return code ?? (error instanceof Error ? error.message : String(error));
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: ProbeResult): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done({ ok: false, detail: `no answer within ${timeoutMs}ms` }), timeoutMs);
    socket.once('connect', () => done({ ok: true, detail: 'connected' }));
    socket.once('error', (error) => done({ ok: false, detail: describeError(error) }));
  });
}

function httpProbe(
  scheme: 'http' | 'https',
  host: string,
  port: number,
  path: string,
  timeoutMs: number,
): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      resolve(result);
    };
    // The node checks itself by its loopback address: no certificate can name that, so none is verified.
    const options = {
      host,
      port,
      path,
      method: 'GET',
      agent: false,
      headers: { 'user-agent': 'herald-health' },
    };
    const req =
      scheme === 'https' ? httpsRequest({ ...options, rejectUnauthorized: false }) : httpRequest(options);
    const timer = setTimeout(() => done({ ok: false, detail: `no answer within ${timeoutMs}ms` }), timeoutMs);
    req.once('response', (res) => {
      const status = res.statusCode ?? 0;
      res.resume();
      done({ ok: status >= 200 && status < 400, detail: `HTTP ${status}` });
    });
    req.once('error', (error) => done({ ok: false, detail: describeError(error) }));
    req.end();
  });
}

function execProbe(command: string, timeoutMs: number, env: Record<string, string>): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    // Its own process group, so a timeout kills what the shell started too.
    const child = spawn('/bin/sh', ['-c', command], {
      detached: true,
      stdio: 'ignore',
      env: { ...process.env, ...env },
    });
    const done = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    child.once('error', (error) => done({ ok: false, detail: describeError(error) }));
    child.once('exit', (code, signal) => {
      // Children the command left behind in its group go too.
      killGroup(child.pid);
      if (timedOut) done({ ok: false, detail: `no exit within ${timeoutMs}ms (killed)` });
      else if (code === 0) done({ ok: true, detail: 'exit 0' });
      else done({ ok: false, detail: signal ? `killed by ${signal}` : `exit ${code}` });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}
