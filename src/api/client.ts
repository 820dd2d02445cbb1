import { Client, credentials, type ChannelCredentials, type ClientReadableStream } from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { type Message, speakerService } from './service.js';
import {
  type BgpSessionStatus,
  DEFAULT_API_SOCKET,
  type MemberStatus,
  type NodeTraffic,
  type StatusEvent,
  type StatusEventKind,
  type VipStatus,
} from './source.js';

export interface VipList extends NodeTraffic {
  node: string;
  vips: Required<VipStatus>[];
}

export interface StatusClientOptions {
  /** Unix socket (default /run/herald/speaker.sock) unless `tcp` is given. */
  socketPath?: string;
  /** "host:port" over TLS; `caFile` verifies the server, cert/key for mTLS. */
  tcp?: { address: string; caFile?: string; certFile?: string; keyFile?: string; insecure?: boolean };
  /** Per-call deadline (default 5 s). */
  timeoutMs?: number;
}

type Method = (typeof speakerService)[keyof typeof speakerService];

/** Client of herald.v1.Speaker (what `herald status` / `herald top` use). */
export class StatusClient {
  private readonly client: Client;
  readonly target: string;

  constructor(private readonly opts: StatusClientOptions = {}) {
    let creds: ChannelCredentials = credentials.createInsecure();
    if (opts.tcp) {
      this.target = opts.tcp.address;
      if (!opts.tcp.insecure) {
        creds = credentials.createSsl(
          opts.tcp.caFile ? readFileSync(opts.tcp.caFile) : null,
          opts.tcp.keyFile ? readFileSync(opts.tcp.keyFile) : null,
          opts.tcp.certFile ? readFileSync(opts.tcp.certFile) : null,
        );
      }
    } else {
      this.target = `unix:${opts.socketPath ?? DEFAULT_API_SOCKET}`;
    }
    this.client = new Client(this.target, creds);
  }

  private call(m: Method, request: Message = {}): Promise<Message> {
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        request,
        { deadline: Date.now() + (this.opts.timeoutMs ?? 5000) },
        (error, value) =>
          error || !value
            ? reject(
                new Error(
                  `${this.target} ${m.originalName}: ${error?.details || error?.message || 'no response'}`,
                ),
              )
            : resolve(value),
      );
    });
  }

  async listVips(): Promise<VipList> {
    return (await this.call(speakerService.ListVips)) as unknown as VipList;
  }

  async listMembers(): Promise<{ node: string; members: MemberStatus[] }> {
    return (await this.call(speakerService.ListMembers)) as unknown as {
      node: string;
      members: MemberStatus[];
    };
  }

  async listBgpSessions(): Promise<{ node: string; sessions: BgpSessionStatus[] }> {
    return (await this.call(speakerService.ListBgpSessions)) as unknown as {
      node: string;
      sessions: BgpSessionStatus[];
    };
  }

  /** Streams events until `cancel()`; `onEnd` gets the error when the stream fails (not on cancel). */
  watch(
    onEvent: (event: StatusEvent) => void,
    opts: { kinds?: StatusEventKind[]; onEnd?: (error?: Error) => void } = {},
  ): { cancel(): void; ready: Promise<void> } {
    const m = speakerService.Watch;
    const stream: ClientReadableStream<Message> = this.client.makeServerStreamRequest(
      m.path,
      m.requestSerialize,
      m.responseDeserialize,
      { kinds: opts.kinds ?? [] },
    );
    let cancelled = false;
    stream.on('data', (msg: Message) => onEvent(msg as unknown as StatusEvent));
    stream.on('error', (error: Error & { code?: number }) => {
      if (!cancelled) opts.onEnd?.(error);
    });
    stream.on('end', () => {
      if (!cancelled) opts.onEnd?.();
    });
    const ready = new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
    return {
      ready,
      cancel: () => {
        cancelled = true;
        stream.cancel();
      },
    };
  }

  close(): void {
    this.client.close();
  }
}
