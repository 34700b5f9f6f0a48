#!/bin/bash
# PID 1 of the vmtest guest (booted with rdinit=/vmtest/init). Mounts what a
# tracer needs, records the kernel and the hooks portwarden chooses, runs the
# integration suite and writes everything to the second serial port (ttyS1),
# which the host script parses. Then powers the guest off.
#
# Report lines the host reads (one per line, on ttyS1):
#   VMTEST kernel <uname -r>
#   VMTEST lockdown <contents of /sys/kernel/security/lockdown or "none">
#   VMTEST hooks auto <the tracer's "tracing (...)" line>
#   VMTEST hooks fexit <the same line with --bind-hook fexit, or its error>
#   VMTEST boot_seconds <uptime when this script started>
#   VMTEST suite_seconds <wall time of pytest>
#   VMTEST exit <pytest exit status>
# between them, pytest's own output.

export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1

mount_fs() {
	mkdir -p "$3"
	mount -t "$1" "$2" "$3" || echo "vmtest: cannot mount $1 on $3" >&2
}

setup_system() {
	mount_fs proc proc /proc
	mount_fs sysfs sysfs /sys
	mount_fs devtmpfs devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount_fs devpts devpts /dev/pts
	mount_fs tmpfs tmpfs /dev/shm
	mount_fs tmpfs tmpfs /run
	mount_fs tmpfs tmpfs /tmp
	mount_fs securityfs securityfs /sys/kernel/security
	mount_fs bpf bpf /sys/fs/bpf
	mount_fs tracefs tracefs /sys/kernel/tracing
	mount_fs debugfs debugfs /sys/kernel/debug
	mount_fs cgroup2 cgroup2 /sys/fs/cgroup
	ln -sf /proc/self/fd /dev/fd
	hostname vmtest
	ip link set lo up
}

# The tracer's own account of its hooks: start it, wait for the "tracing"
# line (or its exit), stop it. TCG is slow: allow a minute for the verifier.
hook_line() {
	local log=/tmp/hooks.$$ pid start _
	start=$(date +%s%N)
	"$PORTWARDEN" -v "$@" >/dev/null 2>"$log" &
	pid=$!
	for _ in $(seq 1 600); do
		grep -q 'portwarden: tracing' "$log" && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	local ms=$((($(date +%s%N) - start) / 1000000))
	kill -INT "$pid" 2>/dev/null
	wait "$pid"
	if grep -q 'portwarden: tracing' "$log"; then
		echo "$(grep 'portwarden: tracing' "$log" | head -1) [ready in $ms ms]"
	else
		echo "FAILED: $(grep -v '^libbpf' "$log" | tail -3 | tr '\n' ' ')"
	fi
	# Its own verbose lines (not libbpf's, too many) go to the report.
	grep -v '^libbpf:' "$log" | sed 's/^/  [portwarden -v] /' >&2
	rm -f "$log"
}

run_tests() {
	local start end status
	echo "VMTEST kernel $(uname -r)"
	echo "VMTEST lockdown $(cat /sys/kernel/security/lockdown 2>/dev/null || echo none)"
	echo "VMTEST boot_seconds $(cut -d' ' -f1 /proc/uptime)"
	echo "VMTEST hooks auto $(hook_line)"
	echo "VMTEST hooks fexit $(hook_line --bind-hook fexit)"
	cd /repo || return 1
	start=$(date +%s)
	if [ -f /vmtest/exec ]; then
		timeout "${VMTEST_SUITE_TIMEOUT:-780}" bash /vmtest/exec 2>&1
	else
		# shellcheck disable=SC2086
		timeout "${VMTEST_SUITE_TIMEOUT:-780}" python3 -m pytest -p no:cacheprovider -rA \
			${VMTEST_PYTEST_ARGS:--q --durations=10} tests/integration 2>&1
	fi
	status=$?
	end=$(date +%s)
	echo "VMTEST suite_seconds $((end - start))"
	echo "VMTEST exit $status"
}

setup_system
# Settings from the host, on the kernel command line (vmtest.KEY=VALUE).
# shellcheck disable=SC2013 # one line of words
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	vmtest.pytest_args=*) VMTEST_PYTEST_ARGS=$(echo "${arg#*=}" | tr ',' ' ') ;;
	vmtest.suite_timeout=*) VMTEST_SUITE_TIMEOUT=${arg#*=} ;;
	esac
done
export VMTEST_PYTEST_ARGS VMTEST_SUITE_TIMEOUT
export PORTWARDEN=/repo/build/portwarden
# This kernel has BPF trampolines and no lockdown: tests that force the
# fexit bind hook must run here, and fail rather than skip if it is refused.
export PW_EXPECT_FEXIT=1 PW_VMTEST=1

# Run the work as a child so that PID 1 (this shell) stays free to reap
# orphans that tests leave behind, then power off.
run_tests 2>&1 | tee /dev/ttyS1 >/dev/console &
wait $!
sync
echo o >/proc/sysrq-trigger
sleep 10
