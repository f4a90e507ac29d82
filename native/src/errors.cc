#include "errors.h"

#include <uv.h>

#include <cmath>
#include <cstring>

namespace ingot {

void ThrowErrno(Napi::Env env, int err, const std::string& syscall) { ErrnoError(env, err, syscall).ThrowAsJavaScriptException(); }

Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall) {
  // uv_err_name takes libuv's negative codes, which on Unix are -errno; it knows every errno we can meet here.
  const char* code = uv_err_name(-err);
  Napi::Error e = Napi::Error::New(env, syscall + " " + code + ": " + std::strerror(err));
  e.Set("code", Napi::String::New(env, code));
  e.Set("errno", Napi::Number::New(env, -err));
  e.Set("syscall", Napi::String::New(env, syscall));
  return e;
}

static void ThrowType(const Napi::CallbackInfo& info, const char* name, const char* what) {
  Napi::TypeError::New(info.Env(), std::string(name) + " must be " + what).ThrowAsJavaScriptException();
}

bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int* out) {
  if (i >= info.Length() || !info[i].IsNumber()) {
    ThrowType(info, name, "an integer");
    return false;
  }
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!std::isfinite(d) || d != std::trunc(d) || d < -2147483648.0 || d > 2147483647.0) {
    ThrowType(info, name, "an integer");
    return false;
  }
  *out = static_cast<int>(d);
  return true;
}

bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out) {
  if (i >= info.Length() || !info[i].IsString()) {
    ThrowType(info, name, "a string");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name, Napi::Buffer<uint8_t>* out) {
  if (i >= info.Length() || !info[i].IsBuffer()) {
    ThrowType(info, name, "a Buffer");
    return false;
  }
  *out = info[i].As<Napi::Buffer<uint8_t>>();
  return true;
}

}  // namespace ingot
