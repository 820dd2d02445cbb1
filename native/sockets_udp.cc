// UDP socket that reports the TTL / hop limit of every received datagram (IP_RECVTTL,
// IPV6_RECVHOPLIMIT) — what BFD single-hop needs to drop packets with TTL != 255 (RFC 5881 §5) and Node's
// dgram cannot tell. A small receive thread polls the fd and hands datagrams to JS through a
// thread-safe function; sends happen on the JS thread (non-blocking sendto).
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "addon.h"
#include "common.h"
#include "sockets_common.h"

namespace herald {
namespace {

struct Datagram {
  std::vector<uint8_t> data;
  std::string address;
  uint16_t port;
  int ttl;  // -1 when the kernel gave none
};

class UdpTtlSocket : public Napi::ObjectWrap<UdpTtlSocket> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "UdpTtlSocket",
                       {InstanceMethod<&UdpTtlSocket::Send>("send"),
                        InstanceMethod<&UdpTtlSocket::LocalPort>("localPort"),
                        InstanceMethod<&UdpTtlSocket::Close>("close")});
  }

  // new UdpTtlSocket(family 4|6, bindAddress, port, ttl, onMessage?)
  explicit UdpTtlSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<UdpTtlSocket>(info) {
    Napi::Env env = info.Env();
    uint32_t family, port, ttl;
    std::string addr;
    if (!ArgU32(info, 0, "family", &family) || !ArgString(info, 1, "bindAddress", &addr) ||
        !ArgU32(info, 2, "port", &port) || !ArgU32(info, 3, "ttl", &ttl))
      return;
    bool v6 = family == 6;
    fd_ = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      ThrowErrno(env, "socket(UDP)", errno);
      return;
    }
    int one = 1, t = static_cast<int>(ttl);
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc;
    if (v6) {
      setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
      rc = setsockopt(fd_, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &t, sizeof(t));
      if (rc == 0) rc = setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
    } else {
      rc = setsockopt(fd_, IPPROTO_IP, IP_TTL, &t, sizeof(t));
      if (rc == 0) rc = setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
    }
    if (rc < 0) {
      int e = errno;
      Shutdown();
      ThrowErrno(env, "setsockopt(TTL)", e);
      return;
    }
    sockaddr_storage ss;
    socklen_t len;
    if (!ParseSockaddr(addr, static_cast<uint16_t>(port), &ss, &len) || ss.ss_family != (v6 ? AF_INET6 : AF_INET)) {
      Shutdown();
      ThrowErrno(env, "bind(UDP)", EINVAL, "not an IPv" + std::to_string(family) + " address: " + addr);
      return;
    }
    if (bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
      int e = errno;
      Shutdown();
      ThrowErrno(env, "bind(UDP)", e, addr + " port " + std::to_string(port));
      return;
    }
    if (info.Length() > 4 && info[4].IsFunction()) {
      wake_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      tsfn_ = Napi::ThreadSafeFunction::New(env, info[4].As<Napi::Function>(), "UdpTtlSocket", 0, 1);
      tsfn_.Unref(env);
      hasTsfn_ = true;
      thread_ = std::thread([this] { ReceiveLoop(); });
    }
  }

  ~UdpTtlSocket() override { Shutdown(); }

 private:
  void ReceiveLoop() {
    std::vector<uint8_t> buf(65536);
    while (!stopping_.load()) {
      pollfd p[2] = {{fd_, POLLIN, 0}, {wake_, POLLIN, 0}};
      if (poll(p, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (p[1].revents) break;
      for (;;) {
        sockaddr_storage from;
        iovec iov{buf.data(), buf.size()};
        alignas(cmsghdr) char control[256];
        msghdr msg;
        std::memset(&msg, 0, sizeof(msg));
        msg.msg_name = &from;
        msg.msg_namelen = sizeof(from);
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof(control);
        ssize_t n = recvmsg(fd_, &msg, MSG_DONTWAIT);
        if (n < 0) break;
        auto* d = new Datagram{std::vector<uint8_t>(buf.begin(), buf.begin() + n), SockaddrIp(from), SockaddrPort(from), -1};
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
          if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
              (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
            int v;
            std::memcpy(&v, CMSG_DATA(c), sizeof(v));
            d->ttl = v;
          }
        }
        napi_status st = tsfn_.NonBlockingCall(d, [](Napi::Env env, Napi::Function cb, Datagram* dg) {
          std::unique_ptr<Datagram> own(dg);
          // Plain N-API calls that never throw: during environment teardown they just fail quietly.
          if (env == nullptr || cb.IsEmpty()) return;
          napi_env e = env;
          napi_value args[4], recv, result;
          void* copy;
          if (napi_create_buffer_copy(e, own->data.size(), own->data.data(), &copy, &args[0]) != napi_ok) return;
          if (napi_create_string_utf8(e, own->address.c_str(), own->address.size(), &args[1]) != napi_ok) return;
          if (napi_create_uint32(e, own->port, &args[2]) != napi_ok) return;
          if (napi_create_int32(e, own->ttl, &args[3]) != napi_ok) return;
          if (napi_get_undefined(e, &recv) != napi_ok) return;
          napi_call_function(e, recv, cb, 4, args, &result);
        });
        if (st != napi_ok) delete d;
      }
    }
  }

  void Shutdown() {
    stopping_.store(true);
    if (wake_ >= 0) {
      uint64_t one = 1;
      ssize_t ignored = write(wake_, &one, sizeof(one));
      (void)ignored;
    }
    if (thread_.joinable()) thread_.join();
    if (hasTsfn_) {
      tsfn_.Release();
      hasTsfn_ = false;
    }
    if (wake_ >= 0) close(wake_);
    wake_ = -1;
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // send(buffer, address, port) -> bytes sent, or 0 when the socket buffer is full (EAGAIN).
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Buffer<uint8_t> data;
    std::string addr;
    uint32_t port;
    if (!ArgBuffer(info, 0, "data", &data) || !ArgString(info, 1, "address", &addr) || !ArgU32(info, 2, "port", &port))
      return env.Undefined();
    if (fd_ < 0) {
      ThrowErrno(env, "sendto(UDP)", EBADF, "socket closed");
      return env.Undefined();
    }
    sockaddr_storage ss;
    socklen_t len;
    if (!ParseSockaddr(addr, static_cast<uint16_t>(port), &ss, &len)) {
      ThrowErrno(env, "sendto(UDP)", EINVAL, "not an IP address: " + addr);
      return env.Undefined();
    }
    ssize_t n = sendto(fd_, data.Data(), data.Length(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&ss), len);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, 0);
      ThrowErrno(env, "sendto(UDP)", errno, addr + " port " + std::to_string(port));
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value LocalPort(const Napi::CallbackInfo& info) {
    sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    if (fd_ < 0 || getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return Napi::Number::New(info.Env(), 0);
    return Napi::Number::New(info.Env(), SockaddrPort(ss));
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  int fd_ = -1;
  int wake_ = -1;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
  Napi::ThreadSafeFunction tsfn_;
  bool hasTsfn_ = false;
};

}  // namespace

void InitUdpTtlSocket(Napi::Env env, Napi::Object exports) {
  exports.Set("UdpTtlSocket", UdpTtlSocket::Define(env));
}

}  // namespace herald
