// Module entry point: registers every feature. No state lives here.
#include <napi.h>

#include "features.h"

// Bumped whenever an exported function changes shape; src/net/native.ts refuses a stale build with a clear
// message instead of failing later on a missing function.
static constexpr int kAbiVersion = 2;

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("abiVersion", Napi::Number::New(env, kAbiVersion));
  ingot::RegisterSockopt(env, exports);
  ingot::RegisterPacket(env, exports);
  return exports;
}

NODE_API_MODULE(ingot_native, Init)
