#!/usr/bin/env bash
# Build the Stratus tiny test guest: a whole-disk qcow2 image that boots on
# its own (MBR + syslinux on a FAT partition holding a Debian cloud kernel
# and a busybox initramfs whose /init is tools/guest/init).
#
# Usage (as root):  tools/build-guest-image.sh [OUTPUT.qcow2]
#   default OUTPUT: /var/lib/stratus/guest/stratus-tiny.qcow2
# Environment:
#   STRATUS_GUEST_KERNEL  kernel version to use (default: newest *-cloud-amd64
#                         under /boot)
#   STRATUS_NO_APT=1      never run apt-get; fail if a package is missing
#
# Only Debian packages are used: linux-image-cloud-amd64, busybox-static,
# syslinux + syslinux-common, mtools, dosfstools, fdisk (sfdisk), cpio,
# qemu-utils. No loop device or mount is needed, so it also works in
# containers. Idempotent: every run rebuilds the image from scratch in a
# temporary directory and atomically replaces OUTPUT.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GUEST_SRC=$HERE/guest
OUT=${1:-/var/lib/stratus/guest/stratus-tiny.qcow2}
START=$(date +%s.%N)

step() { echo "==> build-guest-image: $*"; }
die() { echo "build-guest-image: error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (installs packages, creates device nodes)"
for f in init udhcpc.script; do
    [ -f "$GUEST_SRC/$f" ] || die "missing $GUEST_SRC/$f"
done

# ------------------------------------------------------------------ packages
step "checking Debian packages"
PKGS=(linux-image-cloud-amd64 busybox-static syslinux syslinux-common mtools
      dosfstools fdisk cpio gzip qemu-utils)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    [ "${STRATUS_NO_APT:-0}" = 1 ] && die "missing packages: ${missing[*]}"
    step "installing with apt-get: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt_install() {
        apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${missing[@]}"
    }
    if ! apt_install; then
        apt-get -o DPkg::Lock::Timeout=300 update
        apt_install
    fi
fi

MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
BUSYBOX=/bin/busybox
[ -f "$MBR_BIN" ] || die "$MBR_BIN not found (syslinux-common)"
[ -x "$BUSYBOX" ] || die "$BUSYBOX not found (busybox-static)"
"$BUSYBOX" --list | grep -qx udhcpc || die "$BUSYBOX has no udhcpc applet"

# -------------------------------------------------------------------- kernel
if [ -n "${STRATUS_GUEST_KERNEL:-}" ]; then
    KVER=$STRATUS_GUEST_KERNEL
else
    KVER=$(find /boot -maxdepth 1 -name 'vmlinuz-*-cloud-amd64' -printf '%f\n' |
           sed 's/^vmlinuz-//' | sort -V | tail -n 1)
fi
[ -n "$KVER" ] || die "no /boot/vmlinuz-*-cloud-amd64 (linux-image-cloud-amd64)"
KERNEL=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -f "$KERNEL" ] || die "$KERNEL not found"
[ -f "$MODDIR/modules.dep" ] || die "$MODDIR/modules.dep not found"
step "kernel $KVER"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/stratus-guest-image.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root

# ----------------------------------------------------------------- initramfs
step "creating initramfs tree"
mkdir -p "$ROOT"/{bin,sbin,etc,proc,sys,dev,run,tmp,root,mnt,var/log,lib/modules,usr/share}
mkdir -p "$ROOT"/etc/{udhcpc,acpi/PWRF}
ln -s ../bin "$ROOT/usr/bin"
ln -s ../sbin "$ROOT/usr/sbin"
ln -s /run "$ROOT/var/run"
chmod 700 "$ROOT/root"
chmod 1777 "$ROOT/tmp"
mknod -m 600 "$ROOT/dev/console" c 5 1
mknod -m 666 "$ROOT/dev/null" c 1 3

step "installing busybox $("$BUSYBOX" | head -n 1 | awk '{print $2}') and its applet links"
install -m 0755 "$BUSYBOX" "$ROOT/bin/busybox"
nlinks=0
while read -r applet; do
    case "$applet" in bin/busybox|linuxrc|'') continue ;; esac
    # usr/bin and usr/sbin are symlinks to bin and sbin (merged /usr).
    [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || {
        ln -s /bin/busybox "$ROOT/$applet"
        nlinks=$((nlinks + 1))
    }
done < <("$BUSYBOX" --list-full)
for a in sh ping wget nc dd mount umount udhcpc findfs acpid insmod ip awk sed grep \
         init poweroff hostname head; do
    [ -L "$ROOT/bin/$a" ] || [ -L "$ROOT/sbin/$a" ] || die "busybox applet $a missing"
done
echo "    $nlinks applet links"

step "copying guest init and udhcpc script from $GUEST_SRC"
install -m 0755 "$GUEST_SRC/init" "$ROOT/init"
install -m 0755 "$GUEST_SRC/udhcpc.script" "$ROOT/etc/udhcpc/default.script"

step "writing /etc"
cat >"$ROOT/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$ROOT/etc/group" <<'EOF'
root:x:0:
tty:x:5:
nogroup:x:65534:
EOF
echo 'root::1:0:99999:7:::' >"$ROOT/etc/shadow"
chmod 600 "$ROOT/etc/shadow"
echo stratus >"$ROOT/etc/hostname"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$ROOT/etc/hosts"
printf 'hosts: files dns\n' >"$ROOT/etc/nsswitch.conf"
: >"$ROOT/etc/resolv.conf"
echo /bin/sh >"$ROOT/etc/shells"
cat >"$ROOT/etc/os-release" <<EOF
NAME="Stratus tiny guest"
ID=stratus-tiny
PRETTY_NAME="Stratus tiny guest (busybox, Debian kernel $KVER)"
EOF
cat >"$ROOT/etc/profile" <<'EOF'
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export PS1='\h:\w\$ '
EOF
cat >"$ROOT/etc/inittab" <<'EOF'
# busybox init, started by /init once the boot contract is done.
ttyS0::respawn:-/bin/sh
::ctrlaltdel:/sbin/reboot
::shutdown:/bin/sh -c 'echo "stratus-guest: shutting down"; killall udhcpc acpid 2>/dev/null; sync'
EOF
cat >"$ROOT/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# busybox acpid: ACPI power button -> clean poweroff via busybox init.
echo "stratus-guest: ACPI power button pressed, powering off" >/dev/console
exec /sbin/poweroff
EOF
chmod 755 "$ROOT/etc/acpi/PWRF/00000080"

# ------------------------------------------------------------------- modules
# Wanted modules, in load order; dependencies from modules.dep are put in
# front of each. "?" marks optional ones (absent from some kernels).
WANTED=(virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
        failover net_failover virtio_net virtio_blk
        scsi_common scsi_mod virtio_scsi cdrom sr_mod sd_mod
        libata ata_piix ata_generic ?libahci ?ahci
        isofs fat vfat nls_cp437 nls_ascii nls_utf8 ?nls_iso8859_1
        ?virtio_rng button evdev)
declare -A MODPATH=() MODDEPS=() SEEN=() BUILTIN=()
modname() { local b=${1##*/}; b=${b%%.ko*}; echo "${b//-/_}"; }
while IFS= read -r line; do
    path=${line%%:*}
    b=${path##*/}; b=${b%%.ko*}; b=${b//-/_}
    MODPATH[$b]=$path
    MODDEPS[$b]=${line#*:}
done <"$MODDIR/modules.dep"
if [ -f "$MODDIR/modules.builtin" ]; then
    while IFS= read -r path; do
        b=${path##*/}; b=${b%%.ko*}; BUILTIN[${b//-/_}]=1
    done <"$MODDIR/modules.builtin"
fi
ORDER=()
resolve() {
    local m=$1 d
    [ -n "${SEEN[$m]:-}" ] && return 0
    SEEN[$m]=1
    for d in ${MODDEPS[$m]}; do resolve "$(modname "$d")"; done
    ORDER+=("$m")
}
for w in "${WANTED[@]}"; do
    optional=0
    case "$w" in '?'*) optional=1; w=${w#?} ;; esac
    if [ -n "${MODPATH[$w]:-}" ]; then
        resolve "$w"
    elif [ -n "${BUILTIN[$w]:-}" ]; then
        :
    elif [ $optional = 0 ]; then
        die "module $w is neither in $MODDIR/modules.dep nor built in"
    fi
done
step "copying ${#ORDER[@]} kernel modules"
: >"$ROOT/etc/modules.order"
for m in "${ORDER[@]}"; do
    src=$MODDIR/${MODPATH[$m]}
    dst=$ROOT/lib/modules/$m.ko
    case "$src" in
        *.ko) cp "$src" "$dst" ;;
        *.ko.xz) if command -v xz >/dev/null; then xz -dc "$src" >"$dst"; else "$BUSYBOX" xzcat "$src" >"$dst"; fi ;;
        *.ko.gz) gzip -dc "$src" >"$dst" ;;
        *.ko.zst) command -v zstd >/dev/null || die "zstd needed for $src"; zstd -qdc "$src" >"$dst" ;;
        *) die "unknown module format: $src" ;;
    esac
    echo "$m" >>"$ROOT/etc/modules.order"
done
echo "    $(tr '\n' ' ' <"$ROOT/etc/modules.order")"

step "packing initramfs (cpio newc + gzip)"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
    cpio --quiet -o -H newc -R 0:0 | gzip -6n) >"$WORK/initrd.gz"

# ------------------------------------------------------------- boot partition
cat >"$WORK/syslinux.cfg" <<'EOF'
SERIAL 0 115200
DEFAULT stratus
PROMPT 0
TIMEOUT 0
LABEL stratus
  KERNEL /vmlinuz
  INITRD /initrd.gz
  APPEND console=tty0 console=ttyS0,115200n8 scsi_mod.scan=sync tsc=reliable no_timer_check
EOF

ksize=$(stat -c %s "$KERNEL")
isize=$(stat -c %s "$WORK/initrd.gz")
# Contents + 4 MiB slack, rounded up to 4 MiB, at least 16 MiB (FAT16).
MIB=1048576
need=$((ksize + isize + 4 * MIB))
chunks=$(( (need + 4 * MIB - 1) / (4 * MIB) ))   # round up to 4 MiB
FS_MIB=$((chunks * 4))
[ "$FS_MIB" -ge 16 ] || FS_MIB=16
PART_START=2048   # sectors: partition at 1 MiB

step "creating ${FS_MIB} MiB FAT16 boot filesystem (mkfs.vfat + mtools)"
truncate -s "${FS_MIB}M" "$WORK/boot.fat"
mkfs.vfat -F 16 -n STRATUS -h "$PART_START" "$WORK/boot.fat" >/dev/null
mcopy -i "$WORK/boot.fat" "$KERNEL" ::/vmlinuz
mcopy -i "$WORK/boot.fat" "$WORK/initrd.gz" ::/initrd.gz
mcopy -i "$WORK/boot.fat" "$WORK/syslinux.cfg" ::/syslinux.cfg

step "installing syslinux into the boot filesystem"
syslinux --install "$WORK/boot.fat"

step "assembling whole-disk image (MBR partition table + syslinux mbr.bin)"
DISK=$WORK/disk.raw
truncate -s "$((1 + FS_MIB))M" "$DISK"
printf 'label: dos\nstart=%s, type=e, bootable\n' "$PART_START" |
    sfdisk --quiet --no-reread --no-tell-kernel --wipe never "$DISK" >/dev/null
dd if="$WORK/boot.fat" of="$DISK" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$MBR_BIN" of="$DISK" bs=440 count=1 conv=notrunc status=none

step "converting to qcow2: $OUT"
mkdir -p "$(dirname "$OUT")"
TMP_OUT=$(dirname "$OUT")/.$(basename "$OUT").tmp.$$
trap 'rm -rf "$WORK"; rm -f "$TMP_OUT"' EXIT
qemu-img convert -q -f raw -O qcow2 "$DISK" "$TMP_OUT"
mv -f "$TMP_OUT" "$OUT"

END=$(date +%s.%N)
step "done in $(awk -v a="$START" -v b="$END" 'BEGIN { printf "%.1f", b - a }') s: $OUT"
echo "    kernel $KVER ($((ksize / 1024)) KiB), initramfs $((isize / 1024)) KiB," \
     "disk $((1 + FS_MIB)) MiB virtual, qcow2 $(( $(stat -c %s "$OUT") / 1024 )) KiB"
