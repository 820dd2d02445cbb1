// BPF_PROG_TEST_RUN: runs a loaded program on a frame and returns verdict, output frame and duration.
#include <bpf/bpf.h>

#include <cerrno>
#include <vector>

#include "common.h"

namespace herald {
namespace {

// progTestRun(progFd, frame, repeat, outCapacity) -> { retval, data, durationNs }
Napi::Value ProgTestRun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int32_t fd;
  Napi::Buffer<uint8_t> frame;
  uint32_t repeat, outCap;
  if (!ArgI32(info, 0, "progFd", &fd) || !ArgBuffer(info, 1, "frame", &frame) || !ArgU32(info, 2, "repeat", &repeat) ||
      !ArgU32(info, 3, "outCapacity", &outCap))
    return env.Undefined();
  if (outCap > (1u << 24) || frame.Length() > (1u << 24)) {
    ThrowErrno(env, "bpf_prog_test_run_opts", EINVAL, "frame or output capacity above 16 MiB");
    return env.Undefined();
  }
  std::vector<uint8_t> out(outCap);
  LIBBPF_OPTS(bpf_test_run_opts, opts);
  opts.data_in = frame.Data();
  opts.data_size_in = static_cast<__u32>(frame.Length());
  opts.data_out = out.data();
  opts.data_size_out = outCap;
  opts.repeat = repeat;
  if (bpf_prog_test_run_opts(fd, &opts) != 0) {
    ThrowErrno(env, "bpf_prog_test_run_opts", errno);
    return env.Undefined();
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("retval", opts.retval);
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, out.data(), opts.data_size_out < outCap ? opts.data_size_out : outCap));
  o.Set("durationNs", opts.duration);
  return o;
}

}  // namespace

void InitProgTestRun(Napi::Env env, Napi::Object exports) {
  exports.Set("progTestRun", Napi::Function::New(env, ProgTestRun, "progTestRun"));
}

}  // namespace herald
