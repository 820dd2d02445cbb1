import { join } from 'node:path';
import protobuf from 'protobufjs';
import { projectRoot } from './paths.js';

let root: protobuf.Root | undefined;

/** The parsed `proto/status.proto` (package herald.v1: status API and gossiped rate reports), loaded once. */
export function statusProto(): protobuf.Root {
  if (root) return root;
  const path = join(projectRoot(), 'proto', 'status.proto');
  try {
    const loaded = protobuf.loadSync(path);
    loaded.resolveAll();
    root = loaded;
    return loaded;
  } catch (error) {
    throw new Error(`cannot load ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A message type of herald.v1 by its short name. */
export function statusType(name: string): protobuf.Type {
  return statusProto().lookupType(`herald.v1.${name}`);
}

/** Plain-object conversion used everywhere: 64-bit integers as JS numbers, enums as strings, defaults set. */
export const toObjectOptions: protobuf.IConversionOptions = {
  longs: Number,
  enums: String,
  bytes: Buffer,
  defaults: true,
  arrays: true,
};
