#!/usr/bin/env bash
# Installs whatever Berth needs and is missing, then builds it. Idempotent: a second run on a
# ready machine only checks and rebuilds what changed. Debian 12 / Ubuntu, as root (or with sudo).
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf 'setup: %s\n' "$*" >&2; }
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo

# command-or-file → Debian package that provides it.
APT_NEEDS=(
  "runc:runc" "crun:crun" "nft:nftables" "iptables:iptables" "ip:iproute2"
  "gcc:gcc" "musl-gcc:musl-tools" "make:make" "skopeo:skopeo" "umoci:umoci" "docker-registry:docker-registry"
  "/bin/busybox:busybox-static" "debootstrap:debootstrap" "htpasswd:apache2-utils"
  "zstd:zstd" "setfattr:attr" "jq:jq" "openssl:openssl" "tmux:tmux" "script:bsdutils" "socat:socat" "curl:curl"
  "chromium:chromium" "qemu-system-x86_64:qemu-system-x86" "qemu-img:qemu-utils"
  "cpio:cpio" "mkfs.ext4:e2fsprogs" "xz:xz-utils" "docker-compose:docker-compose"
  "/usr/sbin/dockerd:docker.io" "/usr/bin/tini-static:tini" "ps:procps"
)
missing=()
for need in "${APT_NEEDS[@]}"; do
  what=${need%%:*} pkg=${need#*:}
  if [[ $what == /* ]]; then [ -e "$what" ] || missing+=("$pkg"); else command -v "$what" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
# The VM image is built from Debian's kernel package.
ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || [ "$(uname -m)" != x86_64 ] || missing+=(linux-image-amd64)
# The docker CLI is the client the tests drive; Debian's docker.io ships one.
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get install -y -q "${missing[@]}" >/dev/null 2>&1 \
    || { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q "${missing[@]}" >/dev/null; }
fi

# npm packages: only when the lock file changed since the last install.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages"
  ELECTRON_SKIP_BINARY_DOWNLOAD=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

# The shim and the bundles.
if [ -f native/shim/Makefile ]; then make -s -C native/shim; fi
npm run -s build
say "ready"
