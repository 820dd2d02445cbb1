#include "addon.h"

namespace herald {
void InitPacketSocket(Napi::Env env, Napi::Object exports) {}
}  // namespace herald
