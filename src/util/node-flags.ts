/**
 * Node flags of every long-running Herald process, also written in the shebang of src/cli/main.ts (which
 * cannot import them): a young generation capped at 2 MB per semi-space instead of Node 24's 16 MB keeps
 * an idle speaker's memory low (scavenges of 2 MB take well under a millisecond).
 */
export const HERALD_NODE_FLAGS = ['--max-semi-space-size=2'] as const;
