// AF_PACKET sockets for Layer 2 mode (ARP and NDP), Linux only. Node has no raw link-layer sockets; this is
// the smallest piece that gives it one, with everything else (frame parsing, policy) in TypeScript (src/l2).
//
//   new PacketSocket(ifindex, protocol, filter: Buffer, onFrame, onError)
//     socket(AF_PACKET, SOCK_RAW) bound to one interface and one EtherType, with a classic BPF program
//     (an array of struct sock_filter, 8 octets each) attached *before* the bind, so not one frame outside the
//     filter is ever queued. Received frames go to onFrame(frame, ifindex, pkttype, srcMac) from a uv_poll on
//     the fd (no thread, no busy loop). Our own transmissions never come back: a socket bound to one
//     protocol is not a ptype_all tap, and PACKET_OUTGOING is skipped anyway.
//     onError(err) gets receive errors (ENETDOWN when the link goes down, ...); the socket stays usable.
//   .send(frame) -> octets sent     a whole Ethernet frame, header included, out of the bound interface
//   .addMembership(mac) / .dropMembership(mac)   PACKET_MR_MULTICAST (e.g. 33:33:ff:xx:xx:xx, the MAC of a
//                                   solicited-node group), so the NIC's filter lets those frames in
//   .close()                        stops polling and closes the fd; idempotent. The poll handle is what keeps
//                                   the event loop alive, so a closed socket never holds a process open.
//   .fd
// Needs CAP_NET_RAW: socket() fails with EPERM without it (src/l2/transport.ts words that error).
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "errors.h"
#include "features.h"

namespace ingot {
namespace {

// At most this many frames per readable event, so a flood on one interface cannot starve the event loop:
// the rest stay queued in the socket (bounded by SO_RCVBUF) and the next loop iteration reads on.
constexpr int kMaxFramesPerWake = 64;
// Larger than any frame we accept (ARP is 42 octets, an NS/NA with options well under 1500); the BPF
// programs cap what the kernel copies anyway.
constexpr size_t kFrameBuffer = 2048;

class PacketSocket : public Napi::ObjectWrap<PacketSocket> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "PacketSocket",
                       {
                           InstanceMethod("send", &PacketSocket::Send),
                           InstanceMethod("addMembership", &PacketSocket::AddMembership),
                           InstanceMethod("dropMembership", &PacketSocket::DropMembership),
                           InstanceMethod("close", &PacketSocket::Close),
                           InstanceAccessor("fd", &PacketSocket::Fd, nullptr),
                       });
  }

  explicit PacketSocket(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketSocket>(info) {
    Napi::Env env = info.Env();
    int ifindex, protocol;
    Napi::Buffer<uint8_t> filter;
    if (!ArgInt(info, 0, "ifindex", &ifindex) || !ArgInt(info, 1, "protocol", &protocol) ||
        !ArgBuffer(info, 2, "filter", &filter))
      return;
    if (info.Length() < 5 || !info[3].IsFunction() || !info[4].IsFunction()) {
      Napi::TypeError::New(env, "onFrame and onError must be functions").ThrowAsJavaScriptException();
      return;
    }
    if (ifindex <= 0 || protocol < 0 || protocol > 0xffff) {
      Napi::RangeError::New(env, "ifindex must be > 0 and protocol 0..65535").ThrowAsJavaScriptException();
      return;
    }
    if (filter.Length() == 0 || filter.Length() % sizeof(sock_filter) != 0 ||
        filter.Length() / sizeof(sock_filter) > BPF_MAXINSNS) {
      Napi::RangeError::New(env, "filter must be 1.." + std::to_string(BPF_MAXINSNS) + " BPF instructions of 8 octets")
          .ThrowAsJavaScriptException();
      return;
    }
    // Protocol 0 at socket(): nothing is queued until bind() names the protocol, by which time the filter
    // is in place (a socket made with the protocol would receive unfiltered frames in between).
    int fd = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      ThrowErrno(env, errno, "socket(AF_PACKET)");
      return;
    }
    sock_fprog prog;
    prog.len = static_cast<unsigned short>(filter.Length() / sizeof(sock_filter));
    prog.filter = reinterpret_cast<sock_filter*>(filter.Data());  // the kernel copies the program
    if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)) < 0) {
      int e = errno;
      close(fd);
      ThrowErrno(env, e, "setsockopt(SO_ATTACH_FILTER)");
      return;
    }
    sockaddr_ll sll;
    std::memset(&sll, 0, sizeof(sll));
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(static_cast<uint16_t>(protocol));
    sll.sll_ifindex = ifindex;
    if (bind(fd, reinterpret_cast<sockaddr*>(&sll), sizeof(sll)) < 0) {
      int e = errno;
      close(fd);
      ThrowErrno(env, e, "bind(AF_PACKET)");
      return;
    }
    poll_ = new uv_poll_t;
    uv_loop_t* loop = nullptr;
    int r = napi_get_uv_event_loop(env, &loop) == napi_ok ? uv_poll_init(loop, poll_, fd) : UV_EINVAL;
    if (r != 0) {
      delete poll_;  // never registered with the loop
      poll_ = nullptr;
      close(fd);
      ThrowErrno(env, -r, "uv_poll_init");
      return;
    }
    r = uv_poll_start(poll_, UV_READABLE, OnReadable);
    if (r != 0) {
      // An initialised handle belongs to the loop until uv_close's callback: free it there.
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
      close(fd);
      ThrowErrno(env, -r, "uv_poll_start");
      return;
    }
    poll_->data = this;
    fd_ = fd;
    ifindex_ = ifindex;
    on_frame_ = Napi::Persistent(info[3].As<Napi::Function>());
    on_error_ = Napi::Persistent(info[4].As<Napi::Function>());
    // Callbacks run from libuv, outside any JS call: an async context makes them proper async resources
    // (async_hooks, AsyncLocalStorage see one "ingot:PacketSocket" per socket).
    async_ = std::make_unique<Napi::AsyncContext>(env, "ingot:PacketSocket", info.This().As<Napi::Object>());
    Ref();  // the JS object must outlive the poll handle that points at it
  }

  ~PacketSocket() override { DoClose(); }

 private:
  int fd_ = -1;
  int ifindex_ = 0;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference on_frame_;
  Napi::FunctionReference on_error_;
  std::unique_ptr<Napi::AsyncContext> async_;

  Napi::Value Fd(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), fd_); }

  bool Open(Napi::Env env) {
    if (fd_ >= 0) return true;
    ThrowErrno(env, EBADF, "packet socket (closed)");
    return false;
  }

  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Buffer<uint8_t> frame;
    if (!ArgBuffer(info, 0, "frame", &frame) || !Open(env)) return env.Undefined();
    if (frame.Length() < ETH_HLEN) {
      Napi::RangeError::New(env, "frame must hold at least an Ethernet header (14 octets)").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    ssize_t n = send(fd_, frame.Data(), frame.Length(), MSG_DONTWAIT);
    if (n < 0) {
      ThrowErrno(env, errno, "send(AF_PACKET)");
      return env.Undefined();
    }
    return Napi::Number::New(env, static_cast<double>(n));
  }

  Napi::Value Membership(const Napi::CallbackInfo& info, int op, const char* syscall) {
    Napi::Env env = info.Env();
    Napi::Buffer<uint8_t> mac;
    if (!ArgBuffer(info, 0, "mac", &mac) || !Open(env)) return env.Undefined();
    if (mac.Length() != ETH_ALEN) {
      Napi::RangeError::New(env, "mac must be 6 octets").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    packet_mreq mr;
    std::memset(&mr, 0, sizeof(mr));
    mr.mr_ifindex = ifindex_;
    mr.mr_type = PACKET_MR_MULTICAST;
    mr.mr_alen = ETH_ALEN;
    std::memcpy(mr.mr_address, mac.Data(), ETH_ALEN);
    if (setsockopt(fd_, SOL_PACKET, op, &mr, sizeof(mr)) < 0) ThrowErrno(env, errno, syscall);
    return env.Undefined();
  }
  Napi::Value AddMembership(const Napi::CallbackInfo& info) {
    return Membership(info, PACKET_ADD_MEMBERSHIP, "setsockopt(PACKET_ADD_MEMBERSHIP)");
  }
  Napi::Value DropMembership(const Napi::CallbackInfo& info) {
    return Membership(info, PACKET_DROP_MEMBERSHIP, "setsockopt(PACKET_DROP_MEMBERSHIP)");
  }

  static void OnReadable(uv_poll_t* h, int status, int /*events*/) {
    auto* self = static_cast<PacketSocket*>(h->data);
    if (self == nullptr || self->fd_ < 0) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    if (status < 0) {
      self->ReportError(env, -status, "uv_poll");
      return;
    }
    for (int i = 0; i < kMaxFramesPerWake && self->fd_ >= 0; i++) {
      uint8_t buf[kFrameBuffer];
      sockaddr_ll from;
      socklen_t fromlen = sizeof(from);
      ssize_t n = recvfrom(self->fd_, buf, sizeof(buf), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fromlen);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return;
        if (errno == EINTR) continue;
        // A pending socket error (ENETDOWN when the link went down) is reported once and cleared by this
        // read; the socket keeps its binding and works again when the link returns.
        self->ReportError(env, errno, "recvfrom(AF_PACKET)");
        return;
      }
      if (from.sll_pkttype == PACKET_OUTGOING) continue;
      Napi::Buffer<uint8_t> frame = Napi::Buffer<uint8_t>::Copy(env, buf, static_cast<size_t>(n));
      Napi::Buffer<uint8_t> src = Napi::Buffer<uint8_t>::Copy(env, from.sll_addr, from.sll_halen <= 8 ? from.sll_halen : 8);
      self->on_frame_.MakeCallback(env.Global(),
                                   {frame, Napi::Number::New(env, from.sll_ifindex),
                                    Napi::Number::New(env, from.sll_pkttype), src},
                                   *self->async_);
      // The TypeScript side catches everything; if something still escaped, stop here and let Node report it.
      if (env.IsExceptionPending()) return;
    }
  }

  void ReportError(Napi::Env env, int err, const char* syscall) {
    if (on_error_.IsEmpty() || !async_) return;
    on_error_.MakeCallback(env.Global(), {ErrnoError(env, err, syscall).Value()}, *async_);
  }

  void DoClose() {
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      poll_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    if (fd_ >= 0) {
      close(fd_);
      fd_ = -1;
    }
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    bool wasOpen = fd_ >= 0;
    DoClose();
    if (wasOpen) {
      on_frame_.Reset();
      on_error_.Reset();
      async_.reset();
      Unref();
    }
    return info.Env().Undefined();
  }
};

}  // namespace

void RegisterPacket(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketSocket", PacketSocket::Init(env));
}

}  // namespace ingot
