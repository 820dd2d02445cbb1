/**
 * A protocol error found while decoding or running a session. It carries the NOTIFICATION the RFC
 * prescribes (error code, subcode, data); the session sends it and resets. The decoder throws nothing else.
 */
export class BgpError extends Error {
  constructor(
    readonly code: number,
    readonly subcode: number,
    message: string,
    readonly data: Buffer = Buffer.alloc(0),
  ) {
    super(message);
    this.name = 'BgpError';
  }
}

/** A bounds-checked reader over a buffer; reading past the end throws the error the caller names. */
export class Cursor {
  offset = 0;
  constructor(
    readonly buf: Buffer,
    private readonly onShort: (what: string) => BgpError,
  ) {}

  get remaining(): number {
    return this.buf.length - this.offset;
  }

  need(n: number, what: string): void {
    if (n > this.remaining) throw this.onShort(what);
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf.readUInt8(this.offset++);
  }

  u16(what: string): number {
    this.need(2, what);
    const v = this.buf.readUInt16BE(this.offset);
    this.offset += 2;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.offset);
    this.offset += 4;
    return v;
  }

  bytes(n: number, what: string): Buffer {
    this.need(n, what);
    const v = this.buf.subarray(this.offset, this.offset + n);
    this.offset += n;
    return v;
  }
}
