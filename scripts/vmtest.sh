#!/bin/bash
# Run the integration suite on a second kernel: Debian's 6.1 cloud kernel,
# booted with qemu (TCG software emulation unless VMTEST_ACCEL says otherwise)
# on a Debian root filesystem built here with debootstrap and cached under
# build/vmtest/. The rootfs, the kernel's modules and the tests travel as one
# initramfs; the guest's PID 1 is scripts/vmtest/guest-init.sh, which reports
# on the second serial port. See docs/vmtest.md.
#
#   scripts/vmtest.sh [--kernel PKG] [--rebuild] [--pytest-args "ARGS"] [--exec "CMD"]
#
# --exec runs CMD (a shell command, in the guest's copy of the work tree)
# instead of the suite: to look at what a kernel does differently.
#
# Needs root (debootstrap) and build/portwarden (`make` first; `make vmtest`
# does both; PORTWARDEN=PATH picks another binary). Exit status: 0 when the
# suite passed and the hooks were the ones expected, 1 on a test failure,
# 2 on a setup error.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out=${VMTEST_DIR:-$repo/build/vmtest}
suite=${VMTEST_SUITE:-bookworm}
accel=${VMTEST_ACCEL:-tcg}
smp=${VMTEST_SMP:-2}
mem=${VMTEST_MEM:-2G}
vm_timeout=${VMTEST_TIMEOUT:-900}
expect_fexit=${VMTEST_EXPECT_FEXIT:-1}
kernel_pkg=${VMTEST_KERNEL:-}
binary=${PORTWARDEN:-$repo/build/portwarden}
pytest_args=""
exec_cmd=""
rebuild=0
# What the guest needs to run the tracer (libc, libelf, zlib: libbpf is
# linked in) and the integration tests: the test packages of scripts/deps.sh
# but the -dev ones and chromium (only the HTML report test needs it, and it
# would double the initramfs), and the tools the tests call. Changing this
# list (or deps.sh's) rebuilds the rootfs.
guest_base="libelf1 zlib1g kmod procps psmisc libcap2-bin netcat-openbsd util-linux systemd"
guest_skip="chromium"
test_packages() {
	local pkg
	# shellcheck disable=SC2013 # one line of words
	for pkg in $(sed -n 's/^test_pkgs="\(.*\)"/\1/p' "$repo/scripts/deps.sh"); do
		case " $guest_skip " in *" $pkg "*) continue ;; esac
		case "$pkg" in *-dev) continue ;; esac
		echo "$pkg"
	done
}
# shellcheck disable=SC2086,SC2046 # lists of words, split on purpose
packages=$(printf '%s\n' $guest_base $(test_packages) python3 python3-pytest \
	python3-jsonschema iproute2 | sort -u | paste -sd, -)
host_tools="qemu-system-x86_64:qemu-system-x86 debootstrap:debootstrap cpio:cpio depmod:kmod
	dpkg-deb:dpkg apt-get:apt"

die() {
	echo "vmtest: $*" >&2
	exit 2
}

say() {
	echo "vmtest: $*" >&2
}

usage() {
	sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) kernel_pkg=${2:?--kernel needs a package name}; shift 2 ;;
	--rebuild) rebuild=1; shift ;;
	--pytest-args) pytest_args=${2?--pytest-args needs a value}; shift 2 ;;
	--exec) exec_cmd=${2:?--exec needs a command}; shift 2 ;;
	-h|--help) usage 0 ;;
	*) echo "vmtest: unknown argument '$1'" >&2; usage 2 ;;
	esac
done

apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
		</dev/null >/dev/null
}

apt_update() {
	say "apt-get update"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null >/dev/null
}

check_host() {
	local missing="" pair
	[ "$(id -u)" = 0 ] || die "building the guest root filesystem needs root: run 'sudo make vmtest'"
	for pair in $host_tools; do
		command -v "${pair%%:*}" >/dev/null 2>&1 || missing="$missing ${pair#*:}"
	done
	if [ -n "$missing" ]; then
		say "installing$missing"
		# A fresh machine may have no (or stale) package lists: update once.
		# shellcheck disable=SC2086 # a list of packages
		apt_install $missing || { apt_update && apt_install $missing; } ||
			die "cannot install$missing"
	fi
	[ -x "$binary" ] || die "no $binary: run 'make' first"
	[ -d "$repo/tests/integration" ] || die "no tests/integration to run"
}

# The Debian mirror the host's apt uses, so the guest gets the same packages.
host_mirror() {
	local uri
	uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list.d/*.sources |
		grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -1 | tr -d ' ')
	echo "${uri:-http://deb.debian.org/debian}"
}

# Newest linux-image-6.1.0-N-cloud-amd64-unsigned that apt can fetch.
newest_61_kernel() {
	local pkg
	for pkg in $(apt-cache pkgnames linux-image-6.1.0- |
		grep -E '^linux-image-6\.1\.0-[0-9]+-cloud-amd64-unsigned$' | sort -rV); do
		# (grep -q would close the pipe early: a SIGPIPE under pipefail)
		if apt-cache policy "$pkg" | grep 'Candidate: [0-9]' >/dev/null; then
			echo "$pkg"
			return 0
		fi
	done
	return 1
}

# Fetch and unpack the kernel package into $out/kernel/PKG (never into /boot).
fetch_kernel() {
	local dir=$out/kernel/$kernel_pkg
	if [ ! -f "$dir/.complete" ]; then
		say "fetching $kernel_pkg"
		rm -rf "$dir"
		mkdir -p "$dir/deb"
		(cd "$dir/deb" && apt-get download -q "$kernel_pkg" >/dev/null 2>&1) ||
			die "apt-get download $kernel_pkg failed"
		dpkg-deb -x "$dir"/deb/*.deb "$dir/root"
		touch "$dir/.complete"
	fi
	kernel_image=$(find "$dir/root/boot" -name 'vmlinuz-*' | head -1)
	kernel_release=${kernel_image##*/vmlinuz-}
	kernel_dir=$dir
}

# The modules tests may load on demand (veth, namespaces, netfilter...), as
# an initramfs fragment under usr/lib/modules (the rootfs has merged /usr).
build_modules_cpio() {
	local stage=$kernel_dir/modstage src=$kernel_dir/root/lib/modules/$kernel_release
	local dst=$stage/lib/modules/$kernel_release sub
	modules_cpio=$kernel_dir/modules.cpio
	[ -f "$modules_cpio" ] && return 0
	rm -rf "$stage"
	mkdir -p "$dst/kernel/drivers"
	cp "$src"/modules.order "$src"/modules.builtin* "$dst"/
	for sub in arch crypto fs lib net; do
		[ -d "$src/kernel/$sub" ] && cp -a "$src/kernel/$sub" "$dst/kernel/"
	done
	for sub in net virtio block char; do
		[ -d "$src/kernel/drivers/$sub" ] && cp -a "$src/kernel/drivers/$sub" "$dst/kernel/drivers/"
	done
	depmod -b "$stage" "$kernel_release"
	mkdir -p "$stage/usr/lib"
	mv "$stage/lib/modules" "$stage/usr/lib/modules"
	(cd "$stage" && find usr | cpio -o -H newc --quiet -R 0:0) >"$modules_cpio.tmp"
	mv "$modules_cpio.tmp" "$modules_cpio"
	rm -rf "$stage"
}

# Debian root filesystem, cached by suite, mirror and package list.
build_rootfs_cpio() {
	local key dir
	key=$(printf '%s\n' "rootfs-v1" "$suite" "$mirror" "$packages" | sha256sum | cut -c1-12)
	dir=$out/rootfs-$key
	rootfs_cpio=$out/rootfs-$key.cpio
	if [ "$rebuild" = 1 ]; then
		rm -rf "$dir" "$rootfs_cpio"
	fi
	[ -f "$rootfs_cpio" ] && return 0
	say "building the $suite root filesystem from $mirror (cached as ${rootfs_cpio#"$repo"/})"
	rm -rf "$dir" "$out"/rootfs-*.cpio
	mkdir -p "$dir"
	debootstrap --variant=minbase --include="$packages" "$suite" "$dir" "$mirror" \
		>"$out/debootstrap.log" 2>&1 || die "debootstrap failed: see ${out#"$repo"/}/debootstrap.log"
	# Documentation, locales and apt's lists are never read in the guest.
	rm -rf "$dir"/usr/share/doc/* "$dir"/usr/share/man/* "$dir"/usr/share/info/* \
		"$dir"/usr/share/locale/* "$dir"/var/cache/apt/* "$dir"/var/lib/apt/lists/*
	printf '127.0.0.1\tlocalhost vmtest\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
		>"$dir/etc/hosts"
	echo vmtest >"$dir/etc/hostname"
	# The rootfs is the initramfs: the kernel unpacks it into a tmpfs.
	(cd "$dir" && find . -mindepth 1 | cpio -o -H newc --quiet) >"$rootfs_cpio.tmp"
	mv "$rootfs_cpio.tmp" "$rootfs_cpio"
	rm -rf "$dir"
}

# This run's files: the guest init, the work tree (tracked and untracked
# files git knows, as they are now) and the executables make built.
build_payload_cpio() {
	local stage=$run_dir/payload
	payload_cpio=$run_dir/payload.cpio
	rm -rf "$stage"
	mkdir -p "$stage/vmtest" "$stage/repo/build"
	install -m 0755 "$repo/scripts/vmtest/guest-init.sh" "$stage/vmtest/init"
	[ -z "$exec_cmd" ] || printf '%s\n' "$exec_cmd" >"$stage/vmtest/exec"
	# .git is a file in a worktree; safe.directory: a clone owned by another
	# user than root (CI) is still read.
	if command -v git >/dev/null 2>&1 &&
		git -c safe.directory='*' -C "$repo" rev-parse --git-dir >/dev/null 2>&1; then
		(cd "$repo" && git -c safe.directory='*' ls-files -z --cached --others --exclude-standard |
			grep -zv '^build/' | cpio -0 -pdm --quiet "$stage/repo" 2>/dev/null) || true
	else
		(cd "$repo" && find Makefile include src bpf tests docs scripts -print0 2>/dev/null |
			cpio -0 -pdm --quiet "$stage/repo")
	fi
	(cd "$(dirname "$binary")" && find . -path ./vmtest -prune -o -type f -perm -u+x -print0 |
		cpio -0 -pdm --quiet "$stage/repo/build")
	install -m 0755 "$binary" "$stage/repo/build/portwarden"
	(cd "$stage" && find . -mindepth 1 | cpio -o -H newc --quiet -R 0:0) >"$payload_cpio"
	rm -rf "$stage"
}

boot() {
	local initrd=$run_dir/initrd.cpio cmdline
	cat "$rootfs_cpio" "$modules_cpio" "$payload_cpio" >"$initrd"
	cmdline="console=ttyS0,115200 rdinit=/vmtest/init panic=-1 loglevel=4 vmtest.suite_timeout=$((vm_timeout - 120))"
	[ -n "$pytest_args" ] && cmdline="$cmdline vmtest.pytest_args=$(echo "$pytest_args" | tr ' ' ',')"
	rm -f "$run_dir/report.raw"
	say "booting $kernel_release ($accel, -smp $smp -m $mem); console in ${run_dir#"$repo"/}/console.log"
	timeout -k 10 "$vm_timeout" qemu-system-x86_64 \
		-machine pc -accel "$accel" -cpu max -smp "$smp" -m "$mem" \
		-display none -monitor none -no-reboot -nodefaults \
		-serial stdio -serial "file:$run_dir/report.raw" \
		-kernel "$kernel_image" -initrd "$initrd" -append "$cmdline" \
		</dev/null 2>&1 | tr -d '\r' | tee "$run_dir/console.log" || true
	rm -f "$initrd"
	tr -d '\r' <"$run_dir/report.raw" >"$run_dir/report.txt"
}

field() {
	sed -n "s/^VMTEST $1 //p" "$run_dir/report.txt" | head -1
}

# Summarise the report, and decide.
judge() {
	local status hooks_auto hooks_fexit failed=0
	status=$(field exit)
	hooks_auto=$(field "hooks auto")
	hooks_fexit=$(field "hooks fexit")
	{
		echo "kernel:        $(field kernel) ($kernel_pkg)"
		echo "lockdown:      $(field lockdown)"
		echo "boot:          $(field boot_seconds) s to init; suite $(field suite_seconds) s; total $(($(date +%s) - started)) s"
		echo "hooks (auto):  $hooks_auto"
		echo "hooks (fexit): $hooks_fexit"
		grep -E '^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) ' "$run_dir/report.txt" || true
		grep -E '^(=+ )?[0-9]+ (passed|failed|error|skipped|deselected).* in [0-9.]+s' \
			"$run_dir/report.txt" | tail -1 || true
	} >"$run_dir/summary.txt"
	echo "---- vmtest summary (${run_dir#"$repo"/}/summary.txt) ----"
	cat "$run_dir/summary.txt"
	if [ -z "$status" ]; then
		say "the guest never reported: see ${run_dir#"$repo"/}/console.log"
		return 1
	fi
	if [ "$expect_fexit" = 1 ]; then
		case "$hooks_auto" in
		*"bind hook: fexit"*) ;;
		*) say "expected the fexit bind hook on $kernel_release in auto mode"; failed=1 ;;
		esac
		case "$hooks_fexit" in
		*"bind hook: fexit"*) ;;
		*) say "--bind-hook fexit was refused on $kernel_release"; failed=1 ;;
		esac
	fi
	if [ "$status" != 0 ]; then
		say "integration suite failed on $kernel_release (pytest exit $status)"
		failed=1
	fi
	return "$failed"
}

started=$(date +%s)
check_host
mkdir -p "$out"
mirror=${VMTEST_MIRROR:-$(host_mirror)}
[ -n "$kernel_pkg" ] || kernel_pkg=$(newest_61_kernel) ||
	{ apt_update && kernel_pkg=$(newest_61_kernel); } ||
	die "no linux-image-6.1.0-*-cloud-amd64-unsigned package in apt's lists (apt-get update?)"
fetch_kernel
# This kernel's run: payload, initrd, console log, report and summary.
run_dir=$out/runs/$kernel_release
mkdir -p "$run_dir"
build_modules_cpio
build_rootfs_cpio
build_payload_cpio
boot
if judge; then
	say "passed on $kernel_release"
else
	say "FAILED on $kernel_release"
	exit 1
fi
