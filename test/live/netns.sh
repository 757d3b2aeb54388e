#!/bin/sh
# Runs "$@" inside the loopback-only network namespace `unshare -rn` gave this shell: loopback up,
# plus an interface with a test address (198.18.0.1, the benchmarking range) for WebRTC, which
# gathers no loopback candidates. The interface is an empty bridge (the kernel may lack the dummy
# and veth drivers; an empty bridge is up and running): no port, so nothing in here can reach any
# other host.
set -eu
ip link set lo up
ip link add toolproxy0 type bridge
ip addr add 198.18.0.1/24 dev toolproxy0
ip link set toolproxy0 up
exec "$@"
