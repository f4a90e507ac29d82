// Each feature of the addon lives in its own source file and adds its functions to the exports object here.
// The Layer 2 transport (AF_PACKET, for ARP and NDP) will be a RegisterPacket beside RegisterSockopt.
#pragma once

#include <napi.h>

namespace ingot {

// TCP sockets for BGP: creation, source binding, TCP_MD5SIG (RFC 2385), TTL and GTSM (RFC 5082). sockopt.cc
void RegisterSockopt(Napi::Env env, Napi::Object exports);

}  // namespace ingot
