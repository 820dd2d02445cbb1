import type { Command } from 'commander';
import { registerBgp } from './bgp.js';
import { registerController } from './controller.js';
import { registerLab } from './lab.js';
import { registerSpeaker } from './speaker.js';
import { registerStatus } from './status.js';
import { registerTop } from './top.js';
import { registerValidate } from './validate.js';

/** Each subcommand lives in its own module and registers itself here (one line each). */
export const commandRegistrations: ReadonlyArray<(program: Command) => void> = [
  registerBgp,
  registerController,
  registerLab,
  registerSpeaker,
  registerStatus,
  registerTop,
  registerValidate,
];
