#!/bin/sh
# Install the Debian/Ubuntu packages portwarden needs, or say which are missing.
#   scripts/deps.sh build   what `make` and `make run` need
#   scripts/deps.sh test    that, plus what `make test` needs
#   scripts/deps.sh fuzz    that, plus libFuzzer for `make fuzz` (clang's runtime)
#   scripts/deps.sh valgrind  that, plus valgrind for `make valgrind`
set -eu

profile=${1:-build}
build_pkgs="make gcc clang bpftool libbpf-dev libelf-dev zlib1g-dev pkg-config"
test_pkgs="libcmocka-dev iproute2 python3 python3-pytest python3-jsonschema chromium rsyslog rsyslog-kafka rsyslog-elasticsearch python3-yaml"

case "$profile" in
build) wanted=$build_pkgs ;;
test) wanted="$build_pkgs $test_pkgs" ;;
fuzz) wanted="$build_pkgs libclang-rt-dev" ;;
valgrind) wanted="$build_pkgs libcmocka-dev valgrind" ;;
*) echo "deps.sh: unknown profile '$profile' (build, test, fuzz or valgrind)" >&2; exit 2 ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: not a Debian/Ubuntu system; install the equivalents of: $wanted" >&2
	exit 0
fi

missing=""
for pkg in $wanted; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $pkg" ;;
	esac
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "portwarden: missing packages:$missing" >&2
	echo "portwarden: install them with: sudo apt-get install$missing" >&2
	exit 1
fi

echo "portwarden: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
