// AF_PACKET raw frames (gratuitous ARP, unsolicited NA; XDP cannot originate frames), and the receive
// side the test tools need. Closing an AF_PACKET socket waits in synchronize_net() (10-20 ms here), so
// the speaker keeps one non-blocking socket per interface open and sends batches with sendmmsg.
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "addon.h"
#include "common.h"

namespace herald {
namespace {

constexpr size_t kMaxBatch = 1024;
constexpr size_t kMaxFrame = 2048;

sockaddr_ll LinkAddr(uint32_t ifindex, uint16_t protocol, const uint8_t* dst) {
  sockaddr_ll addr;
  std::memset(&addr, 0, sizeof(addr));
  addr.sll_family = AF_PACKET;
  addr.sll_ifindex = static_cast<int>(ifindex);
  addr.sll_protocol = htons(protocol);
  if (dst != nullptr) {
    addr.sll_halen = ETH_ALEN;
    std::memcpy(addr.sll_addr, dst, ETH_ALEN);
  }
  return addr;
}

// packetSend(ifindex, frame) -> bytes sent: one frame through a throwaway socket (tests and tools; the
// speaker uses packetOpen + packetSendBatch). The socket has protocol 0, so it never receives.
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
  sockaddr_ll addr = LinkAddr(ifindex, 0, frame.Data());
  ssize_t n = sendto(s, frame.Data(), frame.Length(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  int err = errno;
  close(s);
  if (n < 0) {
    ThrowErrno(env, "sendto(AF_PACKET)", err, "ifindex " + std::to_string(ifindex));
    return env.Undefined();
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

// packetOpen(ifindex, protocol) -> fd of a non-blocking AF_PACKET socket. protocol 0 only sends; any other
// ethertype (0x0003 = every frame) is bound to ifindex and receives, the host's own outgoing frames excluded.
Napi::Value PacketOpen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex, protocol;
  if (!ArgU32(info, 0, "ifindex", &ifindex) || !ArgU32(info, 1, "protocol", &protocol)) return env.Undefined();
  if (protocol > 0xffff) {
    ThrowErrno(env, "socket(AF_PACKET)", EINVAL, "protocol " + std::to_string(protocol));
    return env.Undefined();
  }
  int s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(static_cast<uint16_t>(protocol)));
  if (s < 0) {
    ThrowErrno(env, "socket(AF_PACKET)", errno);
    return env.Undefined();
  }
  if (protocol != 0) {
    sockaddr_ll addr = LinkAddr(ifindex, static_cast<uint16_t>(protocol), nullptr);
    int one = 1;
    int rcvbuf = 4 << 20;
    if (bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        setsockopt(s, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) != 0 ||
        setsockopt(s, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) != 0) {
      int err = errno;
      close(s);
      ThrowErrno(env, "bind(AF_PACKET)", err, "ifindex " + std::to_string(ifindex));
      return env.Undefined();
    }
  }
  return Napi::Number::New(env, s);
}

// packetSendBatch(fd, ifindex, frames[], start) -> number of frames sent from frames[start] on, in one
// sendmmsg. A full queue (EAGAIN/ENOBUFS) sends fewer (maybe 0): the caller retries later. Any other error
// on the first frame throws; an error on a later frame ends the batch there (the retry reports it).
Napi::Value PacketSendBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t ifindex, start;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "ifindex", &ifindex)) return env.Undefined();
  if (info.Length() <= 2 || !info[2].IsArray()) {
    Napi::TypeError::New(env, "argument 2 (frames) must be an array of Buffers").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!ArgU32(info, 3, "start", &start)) return env.Undefined();
  Napi::Array frames = info[2].As<Napi::Array>();
  uint32_t total = frames.Length();
  if (start >= total) return Napi::Number::New(env, 0);
  size_t count = std::min<size_t>(total - start, kMaxBatch);
  std::vector<sockaddr_ll> addrs(count);
  std::vector<iovec> iovs(count);
  std::vector<mmsghdr> msgs(count);
  for (size_t i = 0; i < count; i++) {
    Napi::Value v = frames.Get(start + static_cast<uint32_t>(i));
    if (!v.IsBuffer()) {
      Napi::TypeError::New(env, "frames[" + std::to_string(start + i) + "] must be a Buffer").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    Napi::Buffer<uint8_t> frame = v.As<Napi::Buffer<uint8_t>>();
    if (frame.Length() < ETH_HLEN) {
      ThrowErrno(env, "sendmmsg(AF_PACKET)", EINVAL, "frames[" + std::to_string(start + i) + "] is shorter than an Ethernet header");
      return env.Undefined();
    }
    addrs[i] = LinkAddr(ifindex, 0, frame.Data());
    iovs[i] = {frame.Data(), frame.Length()};
    std::memset(&msgs[i], 0, sizeof(mmsghdr));
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_ll);
    msgs[i].msg_hdr.msg_iov = &iovs[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }
  int n = sendmmsg(fd, msgs.data(), static_cast<unsigned>(count), MSG_DONTWAIT);
  if (n < 0) {
    int err = errno;
    if (err == EAGAIN || err == ENOBUFS || err == EINTR) return Napi::Number::New(env, 0);
    ThrowErrno(env, "sendmmsg(AF_PACKET)", err, "ifindex " + std::to_string(ifindex));
    return env.Undefined();
  }
  return Napi::Number::New(env, n);
}

// packetRecv(fd, max) -> Buffer[]: the frames queued on a receiving socket, up to max, without waiting.
Napi::Value PacketRecv(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t max;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "max", &max)) return env.Undefined();
  Napi::Array out = Napi::Array::New(env);
  uint32_t got = 0;
  const size_t batch = 64;
  std::vector<uint8_t> bufs(batch * kMaxFrame);
  std::vector<iovec> iovs(batch);
  std::vector<mmsghdr> msgs(batch);
  std::vector<sockaddr_ll> from(batch);
  while (got < max) {
    size_t want = std::min<size_t>(batch, max - got);
    for (size_t i = 0; i < want; i++) {
      iovs[i] = {bufs.data() + i * kMaxFrame, kMaxFrame};
      std::memset(&msgs[i], 0, sizeof(mmsghdr));
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(sockaddr_ll);
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs.data(), static_cast<unsigned>(want), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EINTR) break;
      ThrowErrno(env, "recvmmsg(AF_PACKET)", err);
      return env.Undefined();
    }
    for (int i = 0; i < n; i++) {
      if (from[i].sll_pkttype == PACKET_OUTGOING) continue;
      size_t len = std::min<size_t>(msgs[i].msg_len, kMaxFrame);
      out.Set(got++, Napi::Buffer<uint8_t>::Copy(env, bufs.data() + i * kMaxFrame, len));
    }
    if (static_cast<size_t>(n) < want) break;
  }
  return out;
}

}  // namespace

void InitPacketSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("packetSend", Napi::Function::New(env, PacketSend, "packetSend"));
  exports.Set("packetOpen", Napi::Function::New(env, PacketOpen, "packetOpen"));
  exports.Set("packetSendBatch", Napi::Function::New(env, PacketSendBatch, "packetSendBatch"));
  exports.Set("packetRecv", Napi::Function::New(env, PacketRecv, "packetRecv"));
  InitNetdev(env, exports);
  InitFileLock(env, exports);
}

}  // namespace herald
