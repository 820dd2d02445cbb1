#include "addon.h"

namespace herald {
void InitBpf(Napi::Env env, Napi::Object exports) {}
}  // namespace herald
