import type { Logger } from '../util/log.js';
import type { SpeakerOptions } from './options.js';
import type { Speaker } from './speaker.js';

export interface SpeakerServices {
  stop(): Promise<void>;
}

/** The speaker's outward services: metrics endpoint and status API (wired as they exist). */
export async function startSpeakerServices(
  _speaker: Speaker,
  _options: SpeakerOptions,
  _log: Logger,
): Promise<SpeakerServices> {
  return { stop: async () => undefined };
}
