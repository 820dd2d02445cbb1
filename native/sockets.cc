#include "addon.h"

namespace herald {
void InitSockets(Napi::Env env, Napi::Object exports) {}
}  // namespace herald
