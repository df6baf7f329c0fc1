#!/usr/bin/env bash
# Installs Debian's golang-cfssl (cfssl, cfssljson) for the bench's baseline. Needs root and apt.
set -euo pipefail
if command -v cfssl >/dev/null && command -v cfssljson >/dev/null; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "install-cfssl: needs root and apt-get (Debian/Ubuntu): apt-get install golang-cfssl" >&2
  exit 1
fi
# No service may start from a package's maintainer scripts here.
[ -e /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends golang-cfssl >/dev/null 2>&1 \
  || { apt-get update >/dev/null && apt-get install -y --no-install-recommends golang-cfssl >/dev/null; }
