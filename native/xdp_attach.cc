// XDP attach/detach/query over libbpf's netlink API, in the calling thread's network namespace. The
// flag policy (native vs generic, no-clobber, replace) is decided in TypeScript; this file executes it.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common.h"

namespace herald {
namespace {

// Opens an fd for a program id (for XDP_FLAGS_REPLACE's expected program); -1 and a JS error on failure.
int ProgFdById(Napi::Env env, uint32_t id) {
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) ThrowErrno(env, "bpf_prog_get_fd_by_id", errno, "program id " + std::to_string(id));
  return fd;
}

// bpf_xdp_attach (progFd >= 0) or bpf_xdp_detach (progFd < 0); with expectedProgId > 0 the kernel acts
// only if that program is the one attached (XDP_FLAGS_REPLACE), else EEXIST. The expected program is
// named by an fd the caller holds (expectedFd >= 0: a pinned program, which needs no CAP_SYS_ADMIN) or
// else opened by id (BPF_PROG_GET_FD_BY_ID needs CAP_SYS_ADMIN).
void SetXdp(Napi::Env env, uint32_t ifindex, int progFd, uint32_t flags, uint32_t expected, int expectedFd) {
  LIBBPF_OPTS(bpf_xdp_attach_opts, opts);
  int oldFd = -1;
  if (expected > 0) {
    if (expectedFd >= 0) {
      opts.old_prog_fd = expectedFd;
    } else {
      oldFd = ProgFdById(env, expected);
      if (oldFd < 0) return;
      opts.old_prog_fd = oldFd;
    }
    flags |= XDP_FLAGS_REPLACE;
  }
  int r = progFd >= 0 ? bpf_xdp_attach(static_cast<int>(ifindex), progFd, flags, &opts)
                      : bpf_xdp_detach(static_cast<int>(ifindex), flags, &opts);
  if (oldFd >= 0) close(oldFd);
  if (r != 0)
    ThrowErrno(env, progFd >= 0 ? "bpf_xdp_attach" : "bpf_xdp_detach", -r, "ifindex " + std::to_string(ifindex));
}

// xdpAttach(ifindex, progFd, flags, expectedProgId, expectedProgFd): with expectedProgId > 0, an atomic
// replace of that program (held as expectedProgFd when >= 0).
Napi::Value XdpAttach(const Napi::CallbackInfo& info) {
  uint32_t ifindex, flags, expected;
  int32_t progFd, expectedFd;
  if (ArgU32(info, 0, "ifindex", &ifindex) && ArgI32(info, 1, "progFd", &progFd) && ArgU32(info, 2, "flags", &flags) &&
      ArgU32(info, 3, "expectedProgId", &expected) && ArgI32(info, 4, "expectedProgFd", &expectedFd)) {
    if (progFd < 0)
      ThrowErrno(info.Env(), "bpf_xdp_attach", EBADF, "program fd " + std::to_string(progFd));
    else
      SetXdp(info.Env(), ifindex, progFd, flags, expected, expectedFd);
  }
  return info.Env().Undefined();
}

// xdpDetach(ifindex, flags, expectedProgId): detaches the program of the mode in `flags`.
Napi::Value XdpDetach(const Napi::CallbackInfo& info) {
  uint32_t ifindex, flags, expected;
  if (ArgU32(info, 0, "ifindex", &ifindex) && ArgU32(info, 1, "flags", &flags) &&
      ArgU32(info, 2, "expectedProgId", &expected))
    SetXdp(info.Env(), ifindex, -1, flags, expected, -1);
  return info.Env().Undefined();
}

// xdpQuery(ifindex) -> { attachMode, progId, drvProgId, skbProgId, hwProgId }
Napi::Value XdpQuery(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t ifindex;
  if (!ArgU32(info, 0, "ifindex", &ifindex)) return env.Undefined();
  LIBBPF_OPTS(bpf_xdp_query_opts, opts);
  int r = bpf_xdp_query(static_cast<int>(ifindex), 0, &opts);
  if (r != 0) {
    ThrowErrno(env, "bpf_xdp_query", -r, "ifindex " + std::to_string(ifindex));
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("attachMode", static_cast<uint32_t>(opts.attach_mode));
  o.Set("progId", opts.prog_id);
  o.Set("drvProgId", opts.drv_prog_id);
  o.Set("skbProgId", opts.skb_prog_id);
  o.Set("hwProgId", opts.hw_prog_id);
  return o;
}

// progInfoById(id) -> { id, name, typeId } | undefined when no such program exists.
Napi::Value ProgInfoById(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t id;
  if (!ArgU32(info, 0, "id", &id)) return env.Undefined();
  int fd = bpf_prog_get_fd_by_id(id);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return env.Undefined();
    ThrowErrno(env, "bpf_prog_get_fd_by_id", err, "program id " + std::to_string(id));
    return env.Undefined();
  }
  bpf_prog_info pi = {};
  __u32 len = sizeof(pi);
  int r = bpf_obj_get_info_by_fd(fd, &pi, &len);
  int err = errno;
  close(fd);
  if (r != 0) {
    ThrowErrno(env, "bpf_obj_get_info_by_fd", err, "program id " + std::to_string(id));
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("id", pi.id);
  o.Set("name", pi.name);
  o.Set("typeId", pi.type);
  return o;
}

// progPin(progFd, path): pins a program (replacing nothing: EEXIST when the path exists).
Napi::Value ProgPin(const Napi::CallbackInfo& info) {
  int32_t fd;
  std::string path;
  if (ArgI32(info, 0, "progFd", &fd) && ArgString(info, 1, "path", &path) && bpf_obj_pin(fd, path.c_str()) != 0)
    ThrowErrno(info.Env(), "bpf_obj_pin", errno, path);
  return info.Env().Undefined();
}

// progOpenPinned(path) -> { fd, id, name } | undefined when nothing is pinned there. Only file access to
// the pin is needed, not CAP_SYS_ADMIN: this is how a speaker in a pod recognizes the program it attached.
Napi::Value ProgOpenPinned(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path;
  if (!ArgString(info, 0, "path", &path)) return env.Undefined();
  int fd = bpf_obj_get(path.c_str());
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) return env.Undefined();
    ThrowErrno(env, "bpf_obj_get", err, path);
    return env.Undefined();
  }
  bpf_prog_info pi = {};
  __u32 len = sizeof(pi);
  if (bpf_obj_get_info_by_fd(fd, &pi, &len) != 0) {
    int err = errno;
    close(fd);
    ThrowErrno(env, "bpf_obj_get_info_by_fd", err, path);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("id", pi.id);
  o.Set("name", pi.name);
  return o;
}

}  // namespace

void InitXdpAttach(Napi::Env env, Napi::Object exports) {
  exports.Set("xdpAttach", Napi::Function::New(env, XdpAttach, "xdpAttach"));
  exports.Set("xdpDetach", Napi::Function::New(env, XdpDetach, "xdpDetach"));
  exports.Set("xdpQuery", Napi::Function::New(env, XdpQuery, "xdpQuery"));
  exports.Set("progInfoById", Napi::Function::New(env, ProgInfoById, "progInfoById"));
  exports.Set("progPin", Napi::Function::New(env, ProgPin, "progPin"));
  exports.Set("progOpenPinned", Napi::Function::New(env, ProgOpenPinned, "progOpenPinned"));
}

}  // namespace herald
