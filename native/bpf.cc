// InitBpf: registers every libbpf-backed concern (object load/pin, maps, XDP attach, test runs, tracepoint attach).
#include "addon.h"
#include "common.h"

namespace herald {
void InitBpf(Napi::Env env, Napi::Object exports) {
  InitBpfObject(env, exports);
  InitBpfMap(env, exports);
  InitXdpAttach(env, exports);
  InitProgTestRun(env, exports);
  InitTraceAttach(env, exports);
}
}  // namespace herald
