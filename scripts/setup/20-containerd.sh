#!/usr/bin/env bash
# Installs what the kubelet's real-runtime tests need: containerd (with its CRI
# plugin), runc, the CNI plugins (bridge, host-local, loopback in /usr/lib/cni),
# a static busybox (rootfs of the locally built test images) and iptables (used by
# CNI plugins). Idempotent: installs only what is missing. The tests start their own
# private containerd; nothing here starts or configures the system daemon.
set -euo pipefail

need=()
command -v containerd >/dev/null 2>&1 || need+=(containerd)
command -v runc >/dev/null 2>&1 || need+=(runc)
[ -x /usr/lib/cni/bridge ] && [ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/loopback ] ||
	need+=(containernetworking-plugins)
# Debian's busybox-static provides /bin/busybox statically linked (the plain
# busybox package is dynamic and would not run inside a bare image).
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
command -v iptables >/dev/null 2>&1 || need+=(iptables)

if [ ${#need[@]} -eq 0 ]; then
	echo "containerd setup: all present"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "containerd setup: need root to install ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# Other installers may hold the apt locks: wait for them rather than fail.
apt_opts=(-o DPkg::Lock::Timeout=600)
apt-get "${apt_opts[@]}" update -qq
apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${need[@]}"
# Debian starts the system containerd on install where an init system runs; the
# tests never use it, so leave it as the package set it.
echo "containerd setup: installed ${need[*]}"
