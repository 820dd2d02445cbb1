// Attaching a loaded BTF tracepoint program (SEC("tp_btf/...")): the returned link fd keeps it attached
// until it is closed (closeFd), so the attachment ends with the process that holds it.
#include <bpf/bpf.h>

#include <cerrno>

#include "common.h"

namespace herald {
namespace {

// tracingAttach(progFd) -> linkFd
Napi::Value TracingAttach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  if (!ArgI32(info, 0, "progFd", &fd)) return env.Undefined();
  // No name: the kernel attaches to the tracepoint the program was loaded for (its attach_btf_id).
  int link = bpf_raw_tracepoint_open(nullptr, fd);
  if (link < 0) {
    ThrowErrno(env, "bpf_raw_tracepoint_open", errno);
    return env.Undefined();
  }
  return Napi::Number::New(env, link);
}

}  // namespace

void InitTraceAttach(Napi::Env env, Napi::Object exports) {
  exports.Set("tracingAttach", Napi::Function::New(env, TracingAttach, "tracingAttach"));
}

}  // namespace herald
