// TCP sockets with the options Node cannot set: TCP_MD5SIG (RFC 2385), IP_TTL / IPV6_UNICAST_HOPS
// (eBGP single-hop / multihop), IP_MINTTL / IPV6_MINHOPCOUNT (GTSM, RFC 5082). The addon only creates
// and configures the socket (and completes a non-blocking connect off the JS thread); the stream itself
// is handed to Node with `new net.Socket({ fd })` or `server.listen({ fd })`.
#include <fcntl.h>
#include <linux/tcp.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "addon.h"
#include "common.h"
#include "sockets_common.h"

namespace herald {
namespace {

// tcpSocket(family 4|6) -> fd, non-blocking, close-on-exec, SO_REUSEADDR.
Napi::Value TcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t family;
  if (!ArgU32(info, 0, "family", &family)) return env.Undefined();
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, "socket(TCP)", errno);
    return env.Undefined();
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  return Napi::Number::New(env, fd);
}

// tcpBind(fd, address, port)
Napi::Value TcpBind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  std::string addr;
  uint32_t port;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgString(info, 1, "address", &addr) || !ArgU32(info, 2, "port", &port))
    return env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  if (!ParseSockaddr(addr, static_cast<uint16_t>(port), &ss, &len)) {
    ThrowErrno(env, "bind", EINVAL, "not an IP address: " + addr);
    return env.Undefined();
  }
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    ThrowErrno(env, "bind", errno, addr + " port " + std::to_string(port));
    return env.Undefined();
  }
  return env.Undefined();
}

// tcpSetMd5(fd, peerAddress, key, prefixLength?) — empty key deletes. With a prefix length the key
// covers a range of peers (TCP_MD5SIG_EXT), used on listening sockets.
Napi::Value TcpSetMd5(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  std::string addr, key;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgString(info, 1, "peerAddress", &addr) || !ArgString(info, 2, "key", &key))
    return env.Undefined();
  int32_t prefix = -1;
  if (info.Length() > 3 && !info[3].IsUndefined() && !ArgI32(info, 3, "prefixLength", &prefix)) return env.Undefined();
  if (key.size() > TCP_MD5SIG_MAXKEYLEN) {
    ThrowErrno(env, "setsockopt(TCP_MD5SIG)", EINVAL, "key longer than 80 bytes");
    return env.Undefined();
  }
  tcp_md5sig sig;
  std::memset(&sig, 0, sizeof(sig));
  socklen_t len;
  if (!ParseSockaddr(addr, 0, reinterpret_cast<sockaddr_storage*>(&sig.tcpm_addr), &len)) {
    ThrowErrno(env, "setsockopt(TCP_MD5SIG)", EINVAL, "not an IP address: " + addr);
    return env.Undefined();
  }
  // An IPv6 socket talking to an IPv4 peer sees it as ::ffff:a.b.c.d; callers pass the form the socket uses.
  sig.tcpm_keylen = static_cast<uint16_t>(key.size());
  std::memcpy(sig.tcpm_key, key.data(), key.size());
  int opt = TCP_MD5SIG;
  if (prefix >= 0) {
    opt = TCP_MD5SIG_EXT;
    sig.tcpm_flags = TCP_MD5SIG_FLAG_PREFIX;
    sig.tcpm_prefixlen = static_cast<uint8_t>(prefix);
  }
  if (setsockopt(fd, IPPROTO_TCP, opt, &sig, sizeof(sig)) < 0) {
    ThrowErrno(env, "setsockopt(TCP_MD5SIG)", errno, "peer " + addr);
    return env.Undefined();
  }
  return env.Undefined();
}

int FamilyOf(int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) < 0) return AF_INET;
  return ss.ss_family;
}

// setTtl(fd, ttl): outgoing TTL / hop limit (1 for single-hop eBGP, 255 for multihop and GTSM).
Napi::Value SetTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t ttl;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "ttl", &ttl)) return env.Undefined();
  int v = static_cast<int>(ttl);
  bool v6 = FamilyOf(fd) == AF_INET6;
  int rc = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof(v))
              : setsockopt(fd, IPPROTO_IP, IP_TTL, &v, sizeof(v));
  if (rc < 0) ThrowErrno(env, v6 ? "setsockopt(IPV6_UNICAST_HOPS)" : "setsockopt(IP_TTL)", errno);
  return env.Undefined();
}

// setMinTtl(fd, minTtl): drop received segments with a lower TTL (GTSM, RFC 5082).
Napi::Value SetMinTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t ttl;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "minTtl", &ttl)) return env.Undefined();
  int v = static_cast<int>(ttl);
  bool v6 = FamilyOf(fd) == AF_INET6;
  int rc = v6 ? setsockopt(fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, &v, sizeof(v))
              : setsockopt(fd, IPPROTO_IP, IP_MINTTL, &v, sizeof(v));
  if (rc < 0) ThrowErrno(env, v6 ? "setsockopt(IPV6_MINHOPCOUNT)" : "setsockopt(IP_MINTTL)", errno);
  return env.Undefined();
}

// tcpListen(fd, backlog)
Napi::Value TcpListen(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  uint32_t backlog;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgU32(info, 1, "backlog", &backlog)) return env.Undefined();
  if (listen(fd, static_cast<int>(backlog)) < 0) ThrowErrno(env, "listen", errno);
  return env.Undefined();
}

// Completes a non-blocking connect on a worker thread so the JS thread never blocks.
class ConnectWorker : public Napi::AsyncWorker {
 public:
  ConnectWorker(Napi::Env env, int fd, sockaddr_storage ss, socklen_t len, int timeoutMs, std::string where)
      : Napi::AsyncWorker(env), deferred_(Napi::Promise::Deferred::New(env)), fd_(fd), ss_(ss), len_(len),
        timeoutMs_(timeoutMs), where_(std::move(where)) {}

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override {
    if (connect(fd_, reinterpret_cast<sockaddr*>(&ss_), len_) == 0) return;
    if (errno != EINPROGRESS) {
      err_ = errno;
      return;
    }
    pollfd p{fd_, POLLOUT, 0};
    int n = poll(&p, 1, timeoutMs_);
    if (n == 0) {
      err_ = ETIMEDOUT;
      return;
    }
    if (n < 0) {
      err_ = errno;
      return;
    }
    int soerr = 0;
    socklen_t sl = sizeof(soerr);
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &soerr, &sl);
    err_ = soerr;
  }

  void OnOK() override {
    if (err_ == 0) {
      deferred_.Resolve(Env().Undefined());
      return;
    }
    deferred_.Reject(MakeErrno(Env(), "connect", err_, where_).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  int fd_;
  sockaddr_storage ss_;
  socklen_t len_;
  int timeoutMs_;
  std::string where_;
  int err_ = 0;
};

// tcpConnect(fd, address, port, timeoutMs) -> Promise<void>; rejects with an errno error.
Napi::Value TcpConnect(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  std::string addr;
  uint32_t port, timeout;
  if (!ArgI32(info, 0, "fd", &fd) || !ArgString(info, 1, "address", &addr) || !ArgU32(info, 2, "port", &port) ||
      !ArgU32(info, 3, "timeoutMs", &timeout))
    return env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  if (!ParseSockaddr(addr, static_cast<uint16_t>(port), &ss, &len)) {
    ThrowErrno(env, "connect", EINVAL, "not an IP address: " + addr);
    return env.Undefined();
  }
  auto* w = new ConnectWorker(env, fd, ss, len, static_cast<int>(timeout), addr + " port " + std::to_string(port));
  Napi::Promise p = w->Promise();
  w->Queue();
  return p;
}

}  // namespace

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpSocket", Napi::Function::New(env, TcpSocket, "tcpSocket"));
  exports.Set("tcpBind", Napi::Function::New(env, TcpBind, "tcpBind"));
  exports.Set("tcpSetMd5", Napi::Function::New(env, TcpSetMd5, "tcpSetMd5"));
  exports.Set("tcpListen", Napi::Function::New(env, TcpListen, "tcpListen"));
  exports.Set("tcpConnect", Napi::Function::New(env, TcpConnect, "tcpConnect"));
  exports.Set("setTtl", Napi::Function::New(env, SetTtl, "setTtl"));
  exports.Set("setMinTtl", Napi::Function::New(env, SetMinTtl, "setMinTtl"));
  InitUdpTtlSocket(env, exports);
}

}  // namespace herald
