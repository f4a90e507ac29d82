// Each feature of the addon lives in its own source file and adds its functions to the exports object here.
#pragma once

#include <napi.h>

namespace ingot {

// TCP sockets for BGP: creation, source binding, TCP_MD5SIG (RFC 2385), TTL and GTSM (RFC 5082). sockopt.cc
void RegisterSockopt(Napi::Env env, Napi::Object exports);

// AF_PACKET sockets with a BPF filter and a uv_poll receive path, for ARP and NDP (Layer 2 mode). packet.cc
void RegisterPacket(Napi::Env env, Napi::Object exports);

}  // namespace ingot
