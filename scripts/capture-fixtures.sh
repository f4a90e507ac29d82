#!/usr/bin/env bash
# Regenerates the BGP wire fixtures in test/fixtures/bgp/ from real routers (see test/fixtures/bgp/README.md).
#
# Three routers, each in its own network namespace, hang off one Linux bridge that lives in a fourth namespace;
# tcpdump on that bridge records every BGP session exactly once. Nothing touches the root namespace.
#
#   igfx-frr   FRR bgpd+zebra  AS 4200000001 (4-octet)  10.0.0.1  2001:db8::1
#   igfx-bird  BIRD 2          AS 65002  10.0.0.2  2001:db8::2   (+ 10.0.0.12/.22/.32/.42 for extra sessions)
#   igfx-gobgp GoBGP 3         AS 65003  10.0.0.3  2001:db8::3
#
# Sessions: FRR<->GoBGP eBGP v4 and v6; BIRD<->GoBGP eBGP v4 and v6; FRR<->BIRD iBGP v4 and v6 (BIRD uses
# `local as 4200000001`); FRR<->BIRD eBGP with no 4-octet-AS capability on either side (FRR must then use AS_TRANS in
# its OPEN, AS_PATH and AGGREGATOR, and add AS4_PATH / AS4_AGGREGATOR: RFC 6793 §4.2.2);
# three deliberately misconfigured sessions that end in "Bad Peer AS" NOTIFICATIONs from each implementation.
# Then the script drives route changes, refreshes, shutdowns with RFC 9003 messages and a hold-timer expiry.
#
# Usage: sudo scripts/capture-fixtures.sh [workdir]   (needs frr, bird2, gobgpd, tcpdump; tshark for the .json)
# Output: <workdir>/bgp.pcap, then scripts/pcap-to-fixtures.ts writes the fixtures.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
work=${1:-/tmp/igfx-capture}
pfx=igfx
nss=($pfx-br $pfx-frr $pfx-bird $pfx-gobgp)

log() { printf '[capture] %s\n' "$*" >&2; }
inns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# A subshell body, so that `set +e` here never leaks into the script.
cleanup() (
  set +e
  for f in "$work"/*.pid /var/run/frr/$pfx/*.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f" 2>/dev/null)
    [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null && kill "$pid" 2>/dev/null
  done
  sleep 1
  for ns in "${nss[@]}"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf /var/run/frr/$pfx
)
trap cleanup EXIT

# Polls a shell condition (in the current shell) until true or the timeout in seconds elapses.
wait_for() {
  local what=$1 timeout=$2; shift 2
  local end=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $end ]; then log "timeout waiting for: $what"; return 1; fi
    sleep 0.5
  done
}

rm -rf "$work"; mkdir -p "$work"
cleanup; trap cleanup EXIT

# ---- topology --------------------------------------------------------------------------------------------------
for ns in "${nss[@]}"; do ip netns add "$ns"; inns "$ns" ip link set lo up; done
inns $pfx-br ip link add br0 type bridge
inns $pfx-br ip link set br0 up
i=0
for r in frr bird gobgp; do
  i=$((i + 1))
  ip link add "$pfx-$r-b" netns $pfx-br type veth peer name eth0 netns "$pfx-$r"
  inns $pfx-br ip link set "$pfx-$r-b" master br0 up
  inns "$pfx-$r" ip link set eth0 address "02:00:00:00:00:0$i"
  inns "$pfx-$r" ip addr add "10.0.0.$i/24" dev eth0
  inns "$pfx-$r" ip addr add "2001:db8::$i/64" dev eth0 nodad
  inns "$pfx-$r" ip link set eth0 up
done
# Extra addresses for the extra sessions: BIRD locks a BGP session by neighbor address (not by local address),
# so two BIRD protocols towards the same neighbor IP would wait for each other forever.
for a in 12 22 32 42; do inns $pfx-bird ip addr add "10.0.0.$a/24" dev eth0; done
for a in 11 21; do inns $pfx-frr ip addr add "10.0.0.$a/24" dev eth0; done
for a in 33 43; do inns $pfx-gobgp ip addr add "10.0.0.$a/24" dev eth0; done
# Link-local addresses come from the fixed MACs (fe80::ff:fe00:N with the U/L bit: fe80::ff:fe00:1 etc.).
wait_for "link-local addresses" 10 sh -c "ip netns exec $pfx-frr ip -6 addr show dev eth0 scope link | grep -q 'inet6 fe80' && ! ip netns exec $pfx-frr ip -6 addr show dev eth0 | grep -q tentative"

ip netns exec $pfx-br tcpdump -i br0 -U -s 0 -w "$work/bgp.pcap" 'tcp port 179' >"$work/tcpdump.log" 2>&1 &
echo $! >"$work/tcpdump.pid"
wait_for "tcpdump" 10 grep -q 'listening on' "$work/tcpdump.log"

# ---- FRR ---------------------------------------------------------------------------------------------------------
mkdir -p /var/run/frr/$pfx "$work/frr"
chown frr:frr /var/run/frr/$pfx
cat >"$work/frr/zebra.conf" <<EOF
hostname igfx-frr
EOF
cat >"$work/frr/bgpd.conf" <<'EOF'
hostname igfx-frr
domainname lab.example
!
router bgp 4200000001
 bgp router-id 10.0.0.1
 no bgp ebgp-requires-policy
 no bgp network import-check
 bgp graceful-restart
 neighbor 10.0.0.3 remote-as 65003
 neighbor 10.0.0.3 timers 1 3
 neighbor 2001:db8::3 remote-as 65003
 neighbor 10.0.0.2 remote-as 4200000001
 neighbor 2001:db8::2 remote-as 4200000001
 neighbor 10.0.0.12 remote-as 65002
 neighbor 10.0.0.12 update-source 10.0.0.11
 neighbor 10.0.0.12 dont-capability-negotiate
 neighbor 10.0.0.22 remote-as 65999
 neighbor 10.0.0.22 update-source 10.0.0.21
 !
 address-family ipv4 unicast
  network 10.1.1.0/24 route-map FRR-V4
  network 10.1.2.0/24
  network 10.1.3.0/24 route-map FRR-V4
  network 10.2.1.0/24
  aggregate-address 10.2.0.0/16 summary-only
  neighbor 10.0.0.2 route-map IBGP-OUT out
  neighbor 10.0.0.2 next-hop-self
  no neighbor 2001:db8::3 activate
  no neighbor 2001:db8::2 activate
 exit-address-family
 !
 address-family ipv6 unicast
  network 2001:db8:100::/48 route-map FRR-V6
  network 2001:db8:101::/48
  neighbor 2001:db8::3 activate
  neighbor 2001:db8::2 activate
  neighbor 2001:db8::2 route-map IBGP-OUT out
 exit-address-family
!
route-map FRR-V4 permit 10
 set community 65001:100 65001:200 no-export
 set large-community 65001:1:2 65001:3:4
 set extcommunity rt 65001:42
 set metric 50
 set origin incomplete
!
route-map FRR-V6 permit 10
 set community 65001:600
 set large-community 65001:6:6
 set metric 60
!
route-map IBGP-OUT permit 10
 set local-preference 250
!
EOF
inns $pfx-frr /usr/lib/frr/zebra -N $pfx -d -f "$work/frr/zebra.conf" -i /var/run/frr/$pfx/zebra.pid -u frr -g frr \
  >"$work/frr/zebra.log" 2>&1
wait_for "zebra socket" 10 test -S /var/run/frr/$pfx/zserv.api
inns $pfx-frr /usr/lib/frr/bgpd -N $pfx -d -f "$work/frr/bgpd.conf" -i /var/run/frr/$pfx/bgpd.pid -u frr -g frr \
  >"$work/frr/bgpd.log" 2>&1
wait_for "bgpd vty" 10 test -S /var/run/frr/$pfx/bgpd.vty
# vtysh warns about the missing /etc/frr/<pathspace>/vtysh.conf on every call; the file is optional.
vtysh_() { vtysh -N $pfx "$@" 2> >(grep -v "Can't open configuration file" >&2); }
vty() { vtysh_ -c "$@"; }
vtyconf() { local args=(-c 'configure terminal'); for c in "$@"; do args+=(-c "$c"); done; vtysh_ "${args[@]}"; }

# ---- BIRD --------------------------------------------------------------------------------------------------------
mkdir -p "$work/bird"
cat >"$work/bird/bird.conf" <<'EOF'
router id 10.0.0.2;
protocol device {}
protocol static s4 {
  ipv4 { export none; };
  route 10.4.1.0/24 blackhole;
  route 10.4.2.0/24 blackhole;
}
protocol static s6 {
  ipv6 { export none; };
  route 2001:db8:400::/48 blackhole;
  route 2001:db8:401::/48 blackhole;
}
filter bird_out4 {
  if net = 10.4.1.0/24 then {
    bgp_community.add((65002, 10));
    bgp_community.add((65002, 20));
    bgp_large_community.add((65002, 7, 8));
    bgp_ext_community.add((rt, 65002, 99));
    bgp_med = 77;
    bgp_path.prepend(65002);
  }
  accept;
}
filter bird_out6 {
  if net = 2001:db8:400::/48 then {
    bgp_community.add((65002, 10));
    bgp_community.add((65002, 20));
    bgp_large_community.add((65002, 7, 8));
    bgp_ext_community.add((rt, 65002, 99));
    bgp_med = 77;
    bgp_path.prepend(65002);
  }
  accept;
}
template bgp common {
  hold time 90;
  graceful restart on;
  enable extended messages on;
  enable route refresh on;
}
protocol bgp gobgp4 from common {
  hold time 3;
  keepalive time 1;
  local 10.0.0.2 as 65002;
  neighbor 10.0.0.3 as 65003;
  ipv4 { import all; export filter bird_out4; };
}
protocol bgp gobgp6 from common {
  local 2001:db8::2 as 65002;
  neighbor 2001:db8::3 as 65003;
  ipv6 { import all; export filter bird_out6; };
}
protocol bgp frr4 from common {
  local 10.0.0.2 as 4200000001;
  neighbor 10.0.0.1 as 4200000001;
  ipv4 { import all; export filter bird_out4; next hop self; };
}
protocol bgp frr6 from common {
  local 2001:db8::2 as 4200000001;
  neighbor 2001:db8::1 as 4200000001;
  ipv6 { import all; export filter bird_out6; next hop self; };
}
# RFC 6793 §4.2.2: an "old" (2-octet) speaker pair. BIRD checks the AS4 capability's ASN even with as4 off,
# so FRR sends no capabilities at all here (dont-capability-negotiate): OPEN with AS_TRANS, then AS_PATH and
# AGGREGATOR with AS_TRANS plus AS4_PATH and AS4_AGGREGATOR.
protocol bgp frr_old from common {
  local 10.0.0.12 as 65002;
  neighbor 10.0.0.11 as 23456; # an old speaker only knows FRR as AS_TRANS
  enable as4 off;
  ipv4 { import all; export filter bird_out4; };
}
# FRR expects AS 65999 from 10.0.0.22: FRR answers our OPEN with Bad Peer AS.
protocol bgp frr_badas from common {
  local 10.0.0.22 as 65002;
  neighbor 10.0.0.21 as 4200000001;
  connect retry time 5;
  ipv4 { import none; export none; };
}
# GoBGP claims 65003 but BIRD expects 65998 here: BIRD answers with Bad Peer AS.
protocol bgp gobgp_badas from common {
  local 10.0.0.32 as 65002;
  neighbor 10.0.0.33 as 65998;
  passive on;
  ipv4 { import none; export none; };
}
# GoBGP expects 65997 from 10.0.0.42: GoBGP answers with Bad Peer AS.
protocol bgp gobgp_badas2 from common {
  local 10.0.0.42 as 65002;
  neighbor 10.0.0.43 as 65003;
  connect retry time 5;
  ipv4 { import none; export none; };
}
EOF
inns $pfx-bird /usr/sbin/bird -c "$work/bird/bird.conf" -s "$work/bird/bird.ctl" -P "$work/bird.pid"
wait_for "bird socket" 10 test -S "$work/bird/bird.ctl"
bc() { birdc -s "$work/bird/bird.ctl" "$@"; }

# ---- GoBGP -------------------------------------------------------------------------------------------------------
mkdir -p "$work/gobgp"
cat >"$work/gobgp/gobgpd.toml" <<'EOF'
[global.config]
  as = 65003
  router-id = "10.0.0.3"
  port = 179

[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.1"
    peer-as = 4200000001
  [neighbors.timers.config]
    hold-time = 30
    keepalive-interval = 10
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true

[[neighbors]]
  [neighbors.config]
    neighbor-address = "2001:db8::1"
    peer-as = 4200000001
  [neighbors.graceful-restart.config]
    enabled = true
    restart-time = 120
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true

[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.2"
    peer-as = 65002
  [neighbors.graceful-restart.config]
    enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true

[[neighbors]]
  [neighbors.config]
    neighbor-address = "2001:db8::2"
    peer-as = 65002
  [neighbors.graceful-restart.config]
    enabled = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
    [neighbors.afi-safis.mp-graceful-restart.config]
      enabled = true

[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.32"
    peer-as = 65002
  [neighbors.transport.config]
    local-address = "10.0.0.33"
  [neighbors.timers.config]
    connect-retry = 5
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"

[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.0.0.42"
    peer-as = 65997
  [neighbors.transport.config]
    passive-mode = true
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
EOF
ip netns exec $pfx-gobgp gobgpd -f "$work/gobgp/gobgpd.toml" -p -l info --pprof-disable --api-hosts=127.0.0.1:50051 >"$work/gobgp/gobgpd.log" 2>&1 &
echo $! >"$work/gobgpd.pid"
gb() { ip netns exec $pfx-gobgp gobgp "$@"; }
wait_for "gobgpd api" 15 gb global

gb global rib add -a ipv4 10.3.1.0/24 origin igp med 30 community 65003:1,65003:2 large-community 65003:5:6
gb global rib add -a ipv4 10.3.2.0/24 aspath 65010,4200000005 community 65003:3
gb global rib add -a ipv6 2001:db8:300::/48 med 31 community 65003:6 large-community 65003:6:6
gb global rib add -a ipv6 2001:db8:301::/48
# AIGP (RFC 7311, optional non-transitive) is unknown to the codec: an "unknown attribute" fixture.
gb global rib add -a ipv4 10.3.3.0/24 aigp metric 100 || log "gobgp: no aigp"

# ---- let every good session come up and exchange its tables -----------------------------------------------------
established() { vty 'show bgp neighbors json' | python3 -c '
import json,sys
d=json.load(sys.stdin)
sys.exit(0 if sum(1 for p in d.values() if p.get("bgpState")=="Established")>=5 else 1)'; }
wait_for "FRR sessions" 90 established || vty 'show bgp summary' >&2
wait_for "GoBGP sessions" 60 sh -c "[ \$(ip netns exec $pfx-gobgp gobgp neighbor | grep -c Establ) -ge 4 ]" || gb neighbor >&2
sleep 5 # settle: let MRAI-delayed UPDATEs and End-of-RIBs go out before the changes below

# ---- changes: withdrawals (IPv4 withdrawn routes, IPv6 MP_UNREACH) ---------------------------------------------------
log "withdrawals"
vtyconf 'router bgp 4200000001' 'address-family ipv4 unicast' 'no network 10.1.3.0/24 route-map FRR-V4' \
  'exit-address-family' 'address-family ipv6 unicast' 'no network 2001:db8:101::/48'
gb global rib del -a ipv4 10.3.2.0/24
gb global rib del -a ipv6 2001:db8:301::/48
bc 'disable s6' >/dev/null
sleep 4

# ---- route refresh (RFC 2918) and enhanced route refresh (RFC 7313) --------------------------------------------------
log "route refresh"
vty 'clear bgp 10.0.0.3 soft in'
vty 'clear bgp 10.0.0.2 soft in'
vty 'clear bgp 2001:db8::2 soft in'
gb neighbor 10.0.0.1 softresetin
bc 'reload in gobgp4' >/dev/null
sleep 4

# ---- Cease / Administrative Shutdown with a shutdown communication (RFC 9003) -------------------------------------
log "shutdowns"
vtyconf 'router bgp 4200000001' 'neighbor 2001:db8::2 shutdown message igfx maintenance: FRR going down'
bc 'disable gobgp6 "igfx: BIRD going down"' >/dev/null
gb neighbor 2001:db8::1 shutdown --reason "igfx: GoBGP going down" || gb neighbor 2001:db8::1 disable --reason "igfx: GoBGP going down"
sleep 3

# ---- hold timer expiry: freeze GoBGP so FRR (hold 3 s) and BIRD give up on it ------------------------------------
log "hold timer"
kill -STOP "$(cat "$work/gobgpd.pid")"
sleep 6
kill -CONT "$(cat "$work/gobgpd.pid")"
sleep 2

bc 'show protocols all' >"$work/bird-protocols.txt" 2>&1 || true
gb neighbor >"$work/gobgp-neighbors.txt" 2>&1 || true
kill "$(cat "$work/tcpdump.pid")"; sleep 1; rm -f "$work/tcpdump.pid"
log "capture in $work/bgp.pcap"

# ---- fixtures ------------------------------------------------------------------------------------------------------
frr_v=$(/usr/lib/frr/bgpd --version | sed -n 's/^bgpd version \([0-9.]*\).*/\1/p')
bird_v=$(/usr/sbin/bird --version 2>&1 | sed -n 's/^BIRD version \([0-9.]*\).*/\1/p')
gobgp_v=$(gobgpd --version | sed -n 's/^gobgpd version \([0-9.]*\).*/\1/p')
maps=()
for a in 10.0.0.1 10.0.0.11 10.0.0.21 2001:db8::1; do maps+=(--map "$a=frr-$frr_v"); done
for a in 10.0.0.2 10.0.0.12 10.0.0.22 10.0.0.32 10.0.0.42 2001:db8::2; do maps+=(--map "$a=bird-$bird_v"); done
for a in 10.0.0.3 10.0.0.33 10.0.0.43 2001:db8::3; do maps+=(--map "$a=gobgp-$gobgp_v"); done
out=$repo/test/fixtures/bgp
find "$out" -maxdepth 1 \( -name '*.bin' -o -name '*.json' \) -delete
node --import tsx scripts/pcap-to-fixtures.ts "$work/bgp.pcap" "$out" "$work/manifest.json" "${maps[@]}"
tshark -r "$work/bgp.pcap" -T json -x --no-duplicate-keys -O bgp -Y bgp >"$work/tshark.json" 2>/dev/null
node --import tsx scripts/tshark-to-json.ts "$work/tshark.json" "$work/manifest.json" "$out"
vty 'show bgp summary' >"$work/frr-summary.txt" 2>&1 || true
