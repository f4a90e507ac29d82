// TCP sockets for BGP sessions, with the options Node's `net` cannot set (Linux only):
//   TCP_MD5SIG         RFC 2385 TCP MD5 signature, per peer address, on connecting and listening sockets
//   IP_TTL / IPV6_UNICAST_HOPS    eBGP multihop TTL, and 255 for GTSM (RFC 5082 §3: send with TTL 255)
//   IP_MINTTL / IPV6_MINHOPCOUNT  GTSM receive check (RFC 5082 §3: drop segments below 255 - hops)
// Every option must be in place before the first SYN (client) or before listen() (server): a key set later
// means the handshake already went out unsigned. Hence the fd is made here and handed to `net` afterwards.
//
// Exports (fd-level primitives; policy such as defaults and validation lives in src/net/sockopt.ts):
//   tcpSocket(family: 4|6) -> fd             non-blocking, close-on-exec; IPv6 sockets are IPV6_V6ONLY
//   closeFd(fd)                              for error paths before `net` owns the fd
//   bind(fd, address, port, reuseAddress)    address may carry an IPv6 zone: fe80::1%eth0
//   setMd5Key(fd, peer, key: Buffer)         empty key removes the peer's key
//   setTtl(fd, ttl) / getTtl(fd)
//   setMinTtl(fd, minTtl) / getMinTtl(fd)    0 turns the check off
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "errors.h"
#include "features.h"

namespace ingot {
namespace {

// The socket's address family, read back from the kernel so callers cannot get it wrong.
bool SocketDomain(Napi::Env env, int fd, int* domain) {
  socklen_t len = sizeof(*domain);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, domain, &len) < 0) {
    ThrowErrno(env, errno, "getsockopt(SO_DOMAIN)");
    return false;
  }
  if (*domain != AF_INET && *domain != AF_INET6) {
    Napi::TypeError::New(env, "fd is not an IPv4 or IPv6 socket").ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

// Parses `text` as an address of the socket's family into `ss`. IPv6 text may end in %zone (interface name or
// index), needed for link-local peers. Throws a TypeError and returns false when it does not parse.
bool ParseAddress(Napi::Env env, int domain, const std::string& text, int port, sockaddr_storage* ss,
                  socklen_t* len) {
  std::memset(ss, 0, sizeof(*ss));
  if (domain == AF_INET) {
    auto* sin = reinterpret_cast<sockaddr_in*>(ss);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, text.c_str(), &sin->sin_addr) == 1) {
      *len = sizeof(*sin);
      return true;
    }
  } else {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(ss);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    std::string host = text;
    size_t pct = text.find('%');
    bool ok = true;
    if (pct != std::string::npos) {
      host = text.substr(0, pct);
      std::string zone = text.substr(pct + 1);
      char* end = nullptr;
      unsigned long idx = std::strtoul(zone.c_str(), &end, 10);
      if (zone.empty()) {
        ok = false;
      } else if (end != nullptr && *end == '\0') {
        sin6->sin6_scope_id = static_cast<uint32_t>(idx);
      } else {
        sin6->sin6_scope_id = if_nametoindex(zone.c_str());
        ok = sin6->sin6_scope_id != 0;
      }
    }
    if (ok && inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1) {
      *len = sizeof(*sin6);
      return true;
    }
  }
  Napi::TypeError::New(env, "'" + text + "' is not an " + (domain == AF_INET ? "IPv4" : "IPv6") +
                                " address (the socket's family)")
      .ThrowAsJavaScriptException();
  return false;
}

bool SetInt(Napi::Env env, int fd, int level, int name, int value, const char* syscall) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) < 0) {
    ThrowErrno(env, errno, syscall);
    return false;
  }
  return true;
}

Napi::Value GetInt(Napi::Env env, int fd, int level, int name, const char* syscall) {
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(fd, level, name, &value, &len) < 0) {
    ThrowErrno(env, errno, syscall);
    return env.Undefined();
  }
  return Napi::Number::New(env, value);
}

bool ArgByte(const Napi::CallbackInfo& info, size_t i, const char* name, int min, int* out) {
  if (!ArgInt(info, i, name, out)) return false;
  if (*out < min || *out > 255) {
    Napi::RangeError::New(info.Env(), std::string(name) + " must be " + std::to_string(min) + "..255")
        .ThrowAsJavaScriptException();
    return false;
  }
  return true;
}

Napi::Value TcpSocket(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int family;
  if (!ArgInt(info, 0, "family", &family)) return env.Undefined();
  if (family != 4 && family != 6) {
    Napi::RangeError::New(env, "family must be 4 or 6").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    ThrowErrno(env, errno, "socket");
    return env.Undefined();
  }
  // One family per socket: an IPv6 listener must not also take IPv4-mapped connections, whose keys and TTL
  // checks would then need the IPv4 options as well. ingot opens one socket per family instead.
  if (family == 6 && !SetInt(env, fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "setsockopt(IPV6_V6ONLY)")) {
    close(fd);
    return env.Undefined();
  }
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd;
  if (!ArgInt(info, 0, "fd", &fd)) return env.Undefined();
  if (close(fd) < 0) ThrowErrno(env, errno, "close");
  return env.Undefined();
}

Napi::Value Bind(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, port, domain;
  std::string address;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgString(info, 1, "address", &address) || !ArgInt(info, 2, "port", &port))
    return env.Undefined();
  if (port < 0 || port > 65535) {
    Napi::RangeError::New(env, "port must be 0..65535").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  bool reuse = info.Length() > 3 && info[3].ToBoolean().Value();
  if (!SocketDomain(env, fd, &domain)) return env.Undefined();
  sockaddr_storage ss;
  socklen_t len;
  if (!ParseAddress(env, domain, address, port, &ss, &len)) return env.Undefined();
  // A restarted speaker must get port 179 back while old connections sit in TIME_WAIT (libuv sets the same
  // option on the listeners it binds itself).
  if (reuse && !SetInt(env, fd, SOL_SOCKET, SO_REUSEADDR, 1, "setsockopt(SO_REUSEADDR)")) return env.Undefined();
  if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) ThrowErrno(env, errno, "bind");
  return env.Undefined();
}

Napi::Value SetMd5Key(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, domain;
  std::string peer;
  Napi::Buffer<uint8_t> key;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgString(info, 1, "peer", &peer) || !ArgBuffer(info, 2, "key", &key))
    return env.Undefined();
  // RFC 2385 puts no bound on the key; Linux stores at most TCP_MD5SIG_MAXKEYLEN (80) bytes.
  if (key.Length() > TCP_MD5SIG_MAXKEYLEN) {
    Napi::RangeError::New(env, "TCP-MD5 key is " + std::to_string(key.Length()) + " bytes; Linux allows at most " +
                                   std::to_string(TCP_MD5SIG_MAXKEYLEN))
        .ThrowAsJavaScriptException();
    return env.Undefined();
  }
  if (!SocketDomain(env, fd, &domain)) return env.Undefined();
  tcp_md5sig sig;
  std::memset(&sig, 0, sizeof(sig));
  socklen_t alen;
  if (!ParseAddress(env, domain, peer, 0, &sig.tcpm_addr, &alen)) return env.Undefined();
  // The kernel matches keys by address (and, for link-local IPv6, by interface) only; the port is ignored.
  sig.tcpm_keylen = static_cast<uint16_t>(key.Length());
  std::memcpy(sig.tcpm_key, key.Data(), key.Length());
  // A zero keylen deletes the key for this peer (ENOENT if there was none).
  if (setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, &sig, sizeof(sig)) < 0) ThrowErrno(env, errno, "setsockopt(TCP_MD5SIG)");
  return env.Undefined();
}

Napi::Value SetTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, ttl, domain;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgByte(info, 1, "ttl", 1, &ttl) || !SocketDomain(env, fd, &domain))
    return env.Undefined();
  if (domain == AF_INET) {
    SetInt(env, fd, IPPROTO_IP, IP_TTL, ttl, "setsockopt(IP_TTL)");
  } else {
    SetInt(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl, "setsockopt(IPV6_UNICAST_HOPS)");
  }
  return env.Undefined();
}

Napi::Value GetTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, domain;
  if (!ArgInt(info, 0, "fd", &fd) || !SocketDomain(env, fd, &domain)) return env.Undefined();
  return domain == AF_INET ? GetInt(env, fd, IPPROTO_IP, IP_TTL, "getsockopt(IP_TTL)")
                           : GetInt(env, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, "getsockopt(IPV6_UNICAST_HOPS)");
}

Napi::Value SetMinTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, min, domain;
  if (!ArgInt(info, 0, "fd", &fd) || !ArgByte(info, 1, "minTtl", 0, &min) || !SocketDomain(env, fd, &domain))
    return env.Undefined();
  if (domain == AF_INET) {
    SetInt(env, fd, IPPROTO_IP, IP_MINTTL, min, "setsockopt(IP_MINTTL)");
  } else {
    SetInt(env, fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, min, "setsockopt(IPV6_MINHOPCOUNT)");
  }
  return env.Undefined();
}

Napi::Value GetMinTtl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd, domain;
  if (!ArgInt(info, 0, "fd", &fd) || !SocketDomain(env, fd, &domain)) return env.Undefined();
  return domain == AF_INET ? GetInt(env, fd, IPPROTO_IP, IP_MINTTL, "getsockopt(IP_MINTTL)")
                           : GetInt(env, fd, IPPROTO_IPV6, IPV6_MINHOPCOUNT, "getsockopt(IPV6_MINHOPCOUNT)");
}

}  // namespace

void RegisterSockopt(Napi::Env env, Napi::Object exports) {
  exports.Set("tcpSocket", Napi::Function::New(env, TcpSocket, "tcpSocket"));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd, "closeFd"));
  exports.Set("bind", Napi::Function::New(env, Bind, "bind"));
  exports.Set("setMd5Key", Napi::Function::New(env, SetMd5Key, "setMd5Key"));
  exports.Set("setTtl", Napi::Function::New(env, SetTtl, "setTtl"));
  exports.Set("getTtl", Napi::Function::New(env, GetTtl, "getTtl"));
  exports.Set("setMinTtl", Napi::Function::New(env, SetMinTtl, "setMinTtl"));
  exports.Set("getMinTtl", Napi::Function::New(env, GetMinTtl, "getMinTtl"));
}

}  // namespace ingot
