/**
 * Keyring and packet framing. Every UDP datagram / TCP frame starts with one byte:
 *   0x01 plaintext:  [0x01][envelope]
 *   0x02 AES-256-GCM: [0x02][8-byte send time, ms since the epoch][12-byte nonce][ciphertext][16-byte tag],
 *        AAD = the first 9 bytes.
 * One primary key encrypts; every key in the ring is tried to decrypt, so keys can be rotated without
 * downtime (install new key everywhere → make it primary everywhere → remove the old one).
 *
 * Replay protection: an encrypted frame is accepted once, and only within REPLAY_WINDOW_MS of the time it
 * says it was sent (authenticated, so it cannot be moved). The nonces of accepted frames are remembered
 * for the window, so a captured packet sent again later changes nothing. Members' clocks must agree
 * within the window (NTP); a member whose clock is further off cannot talk to the others (its frames
 * are counted as `expired`).
 */
// Not `import ... from 'node:crypto'`: see the no-restricted-syntax rule in eslint.config.js.
const { createCipheriv, createDecipheriv, randomBytes } = process.getBuiltinModule('node:crypto');

export const FRAME_PLAIN = 0x01;
export const FRAME_GCM = 0x02;
const STAMP = 8;
const NONCE = 12;
const TAG = 16;
/** Bytes the framing adds to an envelope in the worst case (encrypted). */
export const FRAME_OVERHEAD = 1 + STAMP + NONCE + TAG;
/** How far a frame's send time may be from our clock (either way). */
export const REPLAY_WINDOW_MS = 60_000;
/** Remembered nonces at most (≈ 5 MB); beyond it the oldest are forgotten early. */
const MAX_REMEMBERED = 200_000;

export type OpenResult =
  | { ok: true; plain: Buffer }
  | {
      ok: false;
      reason: 'truncated' | 'unauthenticated' | 'plaintext' | 'malformed' | 'replayed' | 'expired';
    };

export class Keyring {
  private keys: Buffer[];
  /** Nonce (latin1) → when it may be forgotten; insertion order is expiry order. */
  private readonly seen = new Map<string, number>();

  /** keys[0] is primary. An empty ring means plaintext. */
  constructor(
    keys: readonly Buffer[] = [],
    private readonly allowPlaintext = false,
  ) {
    for (const k of keys) checkKey(k);
    this.keys = keys.map((k) => Buffer.from(k));
  }

  encrypted(): boolean {
    return this.keys.length > 0;
  }

  primary(): Buffer | undefined {
    return this.keys[0];
  }

  list(): Buffer[] {
    return this.keys.map((k) => Buffer.from(k));
  }

  /** Adds an accepted key (no-op if present). */
  addKey(key: Buffer): void {
    checkKey(key);
    if (!this.keys.some((k) => k.equals(key))) this.keys.push(Buffer.from(key));
  }

  /** Makes an installed key primary. */
  useKey(key: Buffer): void {
    const i = this.keys.findIndex((k) => k.equals(key));
    if (i < 0) throw new Error('keyring: cannot use a key that is not installed');
    const [k] = this.keys.splice(i, 1);
    if (k) this.keys.unshift(k);
  }

  /** Removes a non-primary key. */
  removeKey(key: Buffer): void {
    if (this.keys[0]?.equals(key)) throw new Error('keyring: cannot remove the primary key');
    this.keys = this.keys.filter((k) => !k.equals(key));
  }

  seal(plain: Buffer, now = Date.now()): Buffer {
    const key = this.keys[0];
    if (!key) return Buffer.concat([Buffer.from([FRAME_PLAIN]), plain]);
    const head = Buffer.alloc(1 + STAMP);
    head[0] = FRAME_GCM;
    head.writeBigUInt64BE(BigInt(Math.max(0, Math.floor(now))), 1);
    const nonce = randomBytes(NONCE);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(head);
    const body = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([head, nonce, body, c.getAuthTag()]);
  }

  open(frame: Buffer, now = Date.now()): OpenResult {
    if (frame.length < 1) return { ok: false, reason: 'truncated' };
    const kind = frame[0];
    if (kind === FRAME_PLAIN) {
      if (this.keys.length > 0 && !this.allowPlaintext) return { ok: false, reason: 'plaintext' };
      return { ok: true, plain: frame.subarray(1) };
    }
    if (kind !== FRAME_GCM) return { ok: false, reason: 'malformed' };
    if (frame.length < FRAME_OVERHEAD) return { ok: false, reason: 'truncated' };
    if (this.keys.length === 0) return { ok: false, reason: 'unauthenticated' };
    const head = frame.subarray(0, 1 + STAMP);
    const nonce = frame.subarray(1 + STAMP, 1 + STAMP + NONCE);
    const body = frame.subarray(1 + STAMP + NONCE, frame.length - TAG);
    const tag = frame.subarray(frame.length - TAG);
    for (const key of this.keys) {
      let plain: Buffer;
      try {
        const d = createDecipheriv('aes-256-gcm', key, nonce);
        d.setAAD(head);
        d.setAuthTag(tag);
        plain = Buffer.concat([d.update(body), d.final()]);
      } catch {
        continue; // wrong key or tampered: try the next key
      }
      return this.fresh(Number(head.readBigUInt64BE(1)), nonce, now) ?? { ok: true, plain };
    }
    return { ok: false, reason: 'unauthenticated' };
  }

  /** Checks (and records) an authenticated frame's send time and nonce; undefined when it is new. */
  private fresh(sentAt: number, nonce: Buffer, now: number): OpenResult | undefined {
    if (Math.abs(now - sentAt) > REPLAY_WINDOW_MS) return { ok: false, reason: 'expired' };
    for (const [k, until] of this.seen) {
      if (until > now && this.seen.size < MAX_REMEMBERED) break;
      this.seen.delete(k);
    }
    const id = nonce.toString('latin1');
    if (this.seen.has(id)) return { ok: false, reason: 'replayed' };
    // Kept until no copy of this frame can be fresh any more, on our clock.
    this.seen.set(id, now + 2 * REPLAY_WINDOW_MS);
    return undefined;
  }
}

function checkKey(k: Buffer): void {
  if (k.length !== 32) throw new Error(`keyring: AES-256 keys are 32 bytes, got ${k.length}`);
}

/** Parses a key given as 64 hex characters or base64 of 32 bytes. */
export function parseKey(text: string): Buffer {
  const t = text.trim();
  const b = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  checkKey(b);
  return b;
}
