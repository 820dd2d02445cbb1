#include "addon.h"

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  herald::InitBpf(env, exports);
  herald::InitPacketSocket(env, exports);
  herald::InitSockets(env, exports);
  return exports;
}

NODE_API_MODULE(herald_native, Init)
