// Shared helpers for every feature of the addon: argument checks and errno errors shaped like Node's own
// system errors (code, errno, syscall), so TypeScript handles them the same way as errors from `net`.
#pragma once

#include <napi.h>

#include <string>

namespace ingot {

// Throws (as a pending JS exception) an Error for `err` (a positive errno): message "<syscall> <CODE>: <text>",
// properties code ('EADDRNOTAVAIL'), errno (negative, as libuv and Node report it) and syscall.
void ThrowErrno(Napi::Env env, int err, const std::string& syscall);

// The same Error, returned instead of thrown (for errors delivered to a callback, outside any JS call).
Napi::Error ErrnoError(Napi::Env env, int err, const std::string& syscall);

// Argument readers: on a wrong type they throw a TypeError naming the argument and return false.
bool ArgInt(const Napi::CallbackInfo& info, size_t i, const char* name, int* out);
bool ArgString(const Napi::CallbackInfo& info, size_t i, const char* name, std::string* out);
bool ArgBuffer(const Napi::CallbackInfo& info, size_t i, const char* name, Napi::Buffer<uint8_t>* out);

}  // namespace ingot
