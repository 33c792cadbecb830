#!/usr/bin/env bash
# Service load balancer prerequisites (proxy/...): nft for the nftables
# datapath and NodePort, ip for the tests' network namespaces, iptables for
# the benchmarks' peer figures, and bpffs mounted for anyone who pins.
# Idempotent.
set -euo pipefail

need=()
command -v nft >/dev/null || need+=(nftables)
command -v ip >/dev/null || need+=(iproute2)
command -v iptables >/dev/null || need+=(iptables)
if [ ${#need[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "30-bpf.sh: not root, cannot install ${need[*]}" >&2
		exit 0
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ "$(id -u)" -eq 0 ] && ! mountpoint -q /sys/fs/bpf 2>/dev/null; then
	mkdir -p /sys/fs/bpf
	mount -t bpf bpf /sys/fs/bpf || echo "30-bpf.sh: could not mount bpffs (only pinning needs it)" >&2
fi
