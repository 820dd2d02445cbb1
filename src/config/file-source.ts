import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { DocumentCache } from './document-cache.js';
import { loadConfigFile } from './load.js';
import { modelChange } from './model-change.js';
import { changesContent, modelFingerprint, sameFingerprint } from './model-fingerprint.js';
import { DEFAULT_PARSE_TIMEOUT_MS } from './parse-off-thread.js';
import { DEFAULT_CONFIG_MAX_BYTES } from './read-limited.js';
import { reloadRefusal } from './reload-policy.js';
import { formatProblem, type HeraldModel, type Problem } from './types.js';

export interface ConfigSourceEvents {
  change: [HeraldModel];
  /** A new version of the file is invalid (or refused); the last good model stays in force. */
  rejected: [Problem[]];
}

export interface FileSourceOptions {
  /** Larger files are refused without being parsed (default 16 MiB). */
  maxBytes?: number;
  /** A parse running longer is stopped and the version refused (default 15 s). */
  parseTimeoutMs?: number;
  /** Accept a new version without pools while the running one has some. */
  allowEmpty?: boolean;
  /** File events are coalesced over this window (default 100 ms). */
  debounceMs?: number;
}

/**
 * Standalone mode's source of truth: a YAML file, reloaded on SIGHUP and when the file changes. A bad
 * new version is reported and ignored, so what is running keeps running on the last good one.
 *
 * Reading is capped and parsing runs on a worker thread within a time budget: the heartbeat, gossip and
 * data path never wait for a parse. A newer version of the file stops the parse of an older one, so a
 * good file written after a huge bad one is applied as fast as it parses.
 */
export class FileConfigSource extends EventEmitter<ConfigSourceEvents> {
  private model: HeraldModel | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  /** The running model's fingerprint, built when a reload's change does not tell (changesContent). */
  private lastFingerprint: string[] | undefined;
  private inFlight: AbortController | undefined;
  private starting: Promise<HeraldModel> | undefined;
  private stopped = false;
  private readonly onHup = () => void this.reload();
  private readonly documents = new DocumentCache();

  constructor(
    readonly path: string,
    private readonly opts: FileSourceOptions = {},
  ) {
    super();
  }

  /**
   * Loads the file once; rejects with every problem listed when the first version is invalid. Calls after
   * the first return its promise: the CLI starts the read early and the speaker waits for it later.
   */
  start(): Promise<HeraldModel> {
    return (this.starting ??= this.first());
  }

  private async first(): Promise<HeraldModel> {
    const { model, problems } = await this.load(new AbortController().signal);
    if (problems.length > 0) {
      throw new Error(`invalid configuration:\n${problems.map(formatProblem).join('\n')}`);
    }
    this.model = model;
    process.on('SIGHUP', this.onHup);
    // Watch the directory: editors replace files by rename, which a file watch would lose.
    this.watcher = watch(dirname(this.path), (_event, name) => {
      // A Kubernetes ConfigMap volume swaps a `..data` symlink instead of touching the file.
      if (name !== null && name !== basename(this.path) && name !== '..data') return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(), this.opts.debounceMs ?? 100);
    });
    this.watcher.on('error', () => undefined);
    return model;
  }

  current(): HeraldModel | undefined {
    return this.model;
  }

  /**
   * Reads and parses the file again. The newest call wins: an older parse still running is stopped and
   * its call resolves 'superseded'. Resolves 'applied', 'unchanged' or 'rejected' otherwise.
   */
  async reload(): Promise<'applied' | 'unchanged' | 'rejected' | 'superseded'> {
    this.inFlight?.abort();
    const mine = new AbortController();
    this.inFlight = mine;
    let parsed;
    try {
      parsed = await this.load(mine.signal);
    } catch (error) {
      if (mine.signal.aborted) return 'superseded';
      throw error;
    }
    if (mine.signal.aborted) return 'superseded';
    this.inFlight = undefined;
    if (this.stopped) return 'superseded';
    const refusal = reloadRefusal(this.model, parsed.model, this.path, this.opts.allowEmpty ?? false);
    const problems = refusal && parsed.problems.length === 0 ? [refusal] : parsed.problems;
    if (problems.length > 0) {
      this.emit('rejected', problems);
      return 'rejected';
    }
    if (parsed.model === this.model) return 'unchanged';
    // A reload's recorded change that adds or removes content is a change: no walk over the whole model.
    const change = modelChange(this.model, parsed.model);
    if (change && changesContent(change)) this.lastFingerprint = undefined;
    else {
      const fingerprint = modelFingerprint(parsed.model);
      const running = (this.lastFingerprint ??= this.model ? modelFingerprint(this.model) : []);
      if (sameFingerprint(fingerprint, running)) return 'unchanged';
      this.lastFingerprint = fingerprint;
    }
    this.model = parsed.model;
    this.emit('change', parsed.model);
    return 'applied';
  }

  stop(): void {
    this.stopped = true;
    this.inFlight?.abort();
    process.removeListener('SIGHUP', this.onHup);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }

  private load(signal: AbortSignal) {
    return loadConfigFile(this.path, {
      maxBytes: this.opts.maxBytes ?? DEFAULT_CONFIG_MAX_BYTES,
      worker: { timeoutMs: this.opts.parseTimeoutMs ?? DEFAULT_PARSE_TIMEOUT_MS, signal },
      documents: this.documents,
    });
  }
}
