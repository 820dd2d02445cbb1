// Interface index and MAC by name via ioctl, so they answer for the calling thread's network namespace
// (sysfs may belong to another namespace under `nsenter --net`).
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "common.h"

namespace herald {
namespace {

bool IfreqFor(Napi::Env env, const std::string& op, const std::string& name, unsigned long request, ifreq* ifr) {
  if (name.empty() || name.size() >= IFNAMSIZ) {
    ThrowErrno(env, op, EINVAL, "interface name '" + name + "'");
    return false;
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) {
    ThrowErrno(env, "socket", errno);
    return false;
  }
  std::memset(ifr, 0, sizeof(*ifr));
  std::memcpy(ifr->ifr_name, name.data(), name.size());
  int r = ioctl(s, request, ifr);
  int err = errno;
  close(s);
  if (r != 0) {
    ThrowErrno(env, op, err);  // the TypeScript caller names the interface
    return false;
  }
  return true;
}

Napi::Value InterfaceIndex(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "ifname", &name)) return env.Undefined();
  ifreq ifr;
  if (!IfreqFor(env, "SIOCGIFINDEX", name, SIOCGIFINDEX, &ifr)) return env.Undefined();
  return Napi::Number::New(env, ifr.ifr_ifindex);
}

Napi::Value InterfaceMac(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string name;
  if (!ArgString(info, 0, "ifname", &name)) return env.Undefined();
  ifreq ifr;
  if (!IfreqFor(env, "SIOCGIFHWADDR", name, SIOCGIFHWADDR, &ifr)) return env.Undefined();
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<uint8_t*>(ifr.ifr_hwaddr.sa_data), 6);
}

}  // namespace

void InitNetdev(Napi::Env env, Napi::Object exports) {
  exports.Set("interfaceIndex", Napi::Function::New(env, InterfaceIndex, "interfaceIndex"));
  exports.Set("interfaceMac", Napi::Function::New(env, InterfaceMac, "interfaceMac"));
}

}  // namespace herald
