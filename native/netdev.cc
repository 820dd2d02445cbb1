// Interface index and MAC by name via ioctl, and the addresses of the interfaces via rtnetlink, so
// they answer for the calling thread's network namespace (sysfs may belong to another namespace under
// `nsenter --net`).
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>
#include <vector>

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

// One rtnetlink dump request (RTM_GETLINK, or RTM_GETADDR of one interface), each message handed to
// `each`; false with errno set on failure. An interrupted dump (addresses changed meanwhile) is taken as
// it is: the next scan reads them again.
template <typename Body, typename Fn>
bool NetlinkDump(int fd, uint16_t type, const Body& body, uint32_t seq, Fn each) {
  struct {
    nlmsghdr hdr;
    Body body;
  } req;
  std::memset(&req, 0, sizeof(req));
  req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(Body));
  req.hdr.nlmsg_type = type;
  req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.hdr.nlmsg_seq = seq;
  req.body = body;
  if (send(fd, &req, req.hdr.nlmsg_len, 0) < 0) return false;
  std::vector<char> buf(64 * 1024);
  for (;;) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf.data()); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return true;
      if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        errno = e->error < 0 ? -e->error : EIO;
        return false;
      }
      each(h);
    }
  }
}

struct Link {
  int index;
  unsigned flags;
  std::string name;
  std::vector<uint8_t> mac;
};

// The addresses of every interface except those named in the first array argument (or, with a second,
// only of those named there), and each such interface's MAC: { addresses: [{ name, family: 4 | 6, address, prefixLength, loopback, running }], macs: { name:
// six bytes } }. Links are listed first, then each wanted interface's addresses are dumped alone (the
// kernel filters by index), so 10,000 VIPs held on lo cost nothing here. os.networkInterfaces() (and
// getifaddrs) dump every address of every interface, and restart the dump while addresses change:
// seconds per call while a speaker adds thousands of VIPs to lo.
// Reads argument `i`, when given, as an array of interface names into `out`; false after a TypeError.
bool NameSet(const Napi::CallbackInfo& info, size_t i, const char* what, std::set<std::string>* out) {
  Napi::Env env = info.Env();
  if (info.Length() <= i || info[i].IsUndefined()) return true;
  bool ok = info[i].IsArray();
  if (ok) {
    Napi::Array names = info[i].As<Napi::Array>();
    for (uint32_t k = 0; ok && k < names.Length(); k++) {
      Napi::Value v = names.Get(k);
      ok = v.IsString();
      if (ok) out->insert(v.As<Napi::String>().Utf8Value());
    }
  }
  if (!ok) Napi::TypeError::New(env, std::string(what) + " must be an array of interface names").ThrowAsJavaScriptException();
  return ok;
}

Napi::Value InterfaceAddresses(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::set<std::string> skip;
  std::set<std::string> only;
  if (!NameSet(info, 0, "skip", &skip)) return env.Undefined();
  if (!NameSet(info, 1, "only", &only)) return env.Undefined();
  bool onlySome = info.Length() > 1 && !info[1].IsUndefined();
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) {
    ThrowErrno(env, "socket(AF_NETLINK)", errno);
    return env.Undefined();
  }
  // Strict checking makes the kernel honour the index filter of an address dump (Linux >= 4.20); without
  // it every address comes back and is filtered below.
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof(one));
  std::vector<Link> links;
  ifinfomsg linkReq;
  std::memset(&linkReq, 0, sizeof(linkReq));
  bool ok = NetlinkDump(fd, RTM_GETLINK, linkReq, 1, [&](nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    auto* ifi = static_cast<ifinfomsg*>(NLMSG_DATA(h));
    Link link{ifi->ifi_index, ifi->ifi_flags, "", {}};
    int rtl = static_cast<int>(IFLA_PAYLOAD(h));
    for (auto* a = IFLA_RTA(ifi); RTA_OK(a, rtl); a = RTA_NEXT(a, rtl)) {
      if (a->rta_type == IFLA_IFNAME)
        link.name = std::string(static_cast<const char*>(RTA_DATA(a)), strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
      else if (a->rta_type == IFLA_ADDRESS) {
        auto* p = static_cast<const uint8_t*>(RTA_DATA(a));
        link.mac.assign(p, p + RTA_PAYLOAD(a));
      }
    }
    links.push_back(std::move(link));
  });
  Napi::Array addresses = Napi::Array::New(env);
  Napi::Object macs = Napi::Object::New(env);
  uint32_t count = 0;
  uint32_t seq = 2;
  for (const Link& link : links) {
    if (!ok) break;
    if (link.name.empty() || skip.count(link.name) > 0 || (onlySome && only.count(link.name) == 0)) continue;
    if (link.mac.size() == 6) macs.Set(link.name, Napi::Buffer<uint8_t>::Copy(env, link.mac.data(), 6));
    ifaddrmsg addrReq;
    std::memset(&addrReq, 0, sizeof(addrReq));
    addrReq.ifa_index = static_cast<uint32_t>(link.index);
    ok = NetlinkDump(fd, RTM_GETADDR, addrReq, seq++, [&](nlmsghdr* h) {
      if (h->nlmsg_type != RTM_NEWADDR) return;
      auto* ifa = static_cast<ifaddrmsg*>(NLMSG_DATA(h));
      if (static_cast<int>(ifa->ifa_index) != link.index) return;
      if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6) return;
      const void* local = nullptr;
      const void* address = nullptr;
      std::string label;
      int rtl = static_cast<int>(IFA_PAYLOAD(h));
      for (auto* a = IFA_RTA(ifa); RTA_OK(a, rtl); a = RTA_NEXT(a, rtl)) {
        if (a->rta_type == IFA_LOCAL) local = RTA_DATA(a);
        else if (a->rta_type == IFA_ADDRESS) address = RTA_DATA(a);
        else if (a->rta_type == IFA_LABEL)
          label = std::string(static_cast<const char*>(RTA_DATA(a)), strnlen(static_cast<const char*>(RTA_DATA(a)), RTA_PAYLOAD(a)));
      }
      // IFA_LOCAL is the interface's own address (IFA_ADDRESS the peer on point-to-point links), as in
      // getifaddrs; IPv4 aliases carry their label as the name, as there.
      const void* own = local != nullptr ? local : address;
      if (own == nullptr) return;
      char text[INET6_ADDRSTRLEN] = {0};
      inet_ntop(ifa->ifa_family, own, text, sizeof(text));
      Napi::Object entry = Napi::Object::New(env);
      entry.Set("name", ifa->ifa_family == AF_INET && !label.empty() ? label : link.name);
      entry.Set("family", ifa->ifa_family == AF_INET ? 4 : 6);
      entry.Set("address", text);
      entry.Set("prefixLength", ifa->ifa_prefixlen);
      entry.Set("loopback", (link.flags & IFF_LOOPBACK) != 0);
      entry.Set("running", (link.flags & IFF_UP) != 0 && (link.flags & IFF_RUNNING) != 0);
      addresses.Set(count++, entry);
    });
    // Gone since the link dump: as if it had never been there.
    if (!ok && errno == ENODEV) ok = true;
  }
  int err = errno;
  close(fd);
  if (!ok) {
    ThrowErrno(env, "rtnetlink dump", err);
    return env.Undefined();
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("addresses", addresses);
  result.Set("macs", macs);
  return result;
}

}  // namespace

void InitNetdev(Napi::Env env, Napi::Object exports) {
  exports.Set("interfaceIndex", Napi::Function::New(env, InterfaceIndex, "interfaceIndex"));
  exports.Set("interfaceMac", Napi::Function::New(env, InterfaceMac, "interfaceMac"));
  exports.Set("interfaceAddresses", Napi::Function::New(env, InterfaceAddresses, "interfaceAddresses"));
}

}  // namespace herald
