import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { formatProblem, type HeraldModel, loadConfigFile, type Problem } from '../config/index.js';

export interface ConfigSourceEvents {
  change: [HeraldModel];
  /** A new version of the file is invalid; the last good model stays in force. */
  rejected: [Problem[]];
}

/**
 * Standalone mode's source of truth: a YAML file, reloaded on SIGHUP and when the file changes. A bad
 * new version is reported and ignored, so what is running keeps running on the last good one.
 */
export class FileConfigSource extends EventEmitter<ConfigSourceEvents> {
  private model: HeraldModel | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastText = '';
  private reloading: Promise<unknown> = Promise.resolve();
  private readonly onHup = () => void this.reload();

  constructor(readonly path: string) {
    super();
  }

  /** Loads the file once; throws with every problem listed when the first version is invalid. */
  async start(): Promise<HeraldModel> {
    const { model, problems } = await loadConfigFile(this.path);
    if (problems.length > 0) {
      throw new Error(`invalid configuration:\n${problems.map(formatProblem).join('\n')}`);
    }
    this.model = model;
    this.lastText = JSON.stringify(model);
    process.on('SIGHUP', this.onHup);
    // Watch the directory: editors replace files by rename, which a file watch would lose.
    this.watcher = watch(dirname(this.path), (_event, name) => {
      // A Kubernetes ConfigMap volume swaps a `..data` symlink instead of touching the file.
      if (name !== null && name !== basename(this.path) && name !== '..data') return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => void this.reload(), 100);
    });
    this.watcher.on('error', () => undefined);
    return model;
  }

  current(): HeraldModel | undefined {
    return this.model;
  }

  /** Reloads one at a time, so an older read can never finish last and win. */
  reload(): Promise<boolean> {
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => false);
    return run;
  }

  private async reloadNow(): Promise<boolean> {
    const { model, problems } = await loadConfigFile(this.path);
    if (problems.length > 0) {
      this.emit('rejected', problems);
      return false;
    }
    const text = JSON.stringify(model);
    if (text === this.lastText) return true;
    this.lastText = text;
    this.model = model;
    this.emit('change', model);
    return true;
  }

  stop(): void {
    process.removeListener('SIGHUP', this.onHup);
    clearTimeout(this.debounce);
    this.watcher?.close();
  }
}
