// AF_PACKET raw send of a complete Ethernet frame on an interface (gratuitous ARP, unsolicited NA):
// XDP cannot originate frames.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "addon.h"
#include "common.h"

namespace herald {
namespace {

// packetSend(ifindex, frame) -> bytes sent. The socket has protocol 0, so it never receives.
Napi::Value PacketSend(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex;
  Napi::Buffer<uint8_t> frame;
  if (!ArgU32(info, 0, "ifindex", &ifindex) || !ArgBuffer(info, 1, "frame", &frame)) return env.Undefined();
  if (frame.Length() < ETH_HLEN) {
    ThrowErrno(env, "sendto(AF_PACKET)", EINVAL, "frame shorter than an Ethernet header (" + std::to_string(frame.Length()) + " bytes)");
    return env.Undefined();
  }
  int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (s < 0) {
    ThrowErrno(env, "socket(AF_PACKET)", errno);
    return env.Undefined();
  }
  sockaddr_ll addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(ifindex);
  addr.sll_halen = ETH_ALEN;
  std::memcpy(addr.sll_addr, frame.Data(), ETH_ALEN);
  ssize_t n = sendto(s, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  close(s);
  if (n < 0) {
    ThrowErrno(env, "sendto(AF_PACKET)", err, "ifindex " + std::to_string(ifindex));
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

}  // namespace

void InitPacketSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("packetSend", Napi::Function::New(env, PacketSend, "packetSend"));
  InitNetdev(env, exports);
}

}  // namespace herald
