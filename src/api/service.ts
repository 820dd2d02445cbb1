import type { MethodDefinition } from '@grpc/grpc-js';
import { statusType, toObjectOptions } from '../util/proto.js';

export type Message = Record<string, unknown>;

/** Fully-qualified gRPC service name. */
export const SPEAKER_SERVICE = 'herald.v1.Speaker';

function serializer(typeName: string): (value: Message) => Buffer {
  return (value) => {
    const type = statusType(typeName);
    return Buffer.from(type.encode(type.fromObject(value)).finish());
  };
}

function deserializer(typeName: string): (buf: Buffer) => Message {
  return (buf) => {
    const type = statusType(typeName);
    return type.toObject(type.decode(buf), toObjectOptions);
  };
}

function method(
  name: string,
  request: string,
  response: string,
  responseStream: boolean,
): MethodDefinition<Message, Message> {
  return {
    path: `/${SPEAKER_SERVICE}/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: serializer(request),
    requestDeserialize: deserializer(request),
    responseSerialize: serializer(response),
    responseDeserialize: deserializer(response),
    originalName: name,
  };
}

/** grpc-js service definition of herald.v1.Speaker built from proto/status.proto with protobufjs. */
export const speakerService = {
  ListVips: method('ListVips', 'ListVipsRequest', 'ListVipsResponse', false),
  ListMembers: method('ListMembers', 'ListMembersRequest', 'ListMembersResponse', false),
  ListBgpSessions: method('ListBgpSessions', 'ListBgpSessionsRequest', 'ListBgpSessionsResponse', false),
  Watch: method('Watch', 'WatchRequest', 'Event', true),
} as const;
