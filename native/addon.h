// Entry points of each native concern; addon.cc wires them into one module.
#pragma once
#include <napi.h>

namespace herald {
// bpf.cc: registers bpf_object.cc, bpf_map.cc, xdp_attach.cc, prog_test_run.cc, trace_attach.cc (see common.h)
void InitBpf(Napi::Env env, Napi::Object exports);
// packet_socket.cc: AF_PACKET raw frames, plus netdev.cc (ifindex/MAC by ioctl, addresses by rtnetlink)
// and file_lock.cc (flock)
void InitPacketSocket(Napi::Env env, Napi::Object exports);
// sockets.cc: TCP with TCP_MD5SIG / IP_TTL / IP_MINTTL, UDP receive with TTL (BGP, BFD)
void InitSockets(Napi::Env env, Napi::Object exports);
}  // namespace herald
