#!/bin/sh
# Run cmocka unit test binaries, show the output of any that fail, and close
# with one line "unit: N passed, M failed" counting cmocka tests.
#   scripts/run-unit.sh BIN...
# A binary that dies (signal, sanitizer report, valgrind error, hang) counts
# as one more failure even when every test it started had passed.
# Environment:
#   UNIT_WRAPPER  command put in front of each binary, e.g. "valgrind --error-exitcode=1"
#   UNIT_TIMEOUT  seconds one binary may run (default 300)
set -u

if [ $# -eq 0 ]; then
	echo "run-unit.sh: no test binaries given" >&2
	exit 2
fi

wrapper=${UNIT_WRAPPER:-}
limit=${UNIT_TIMEOUT:-300}
log=$(mktemp "${TMPDIR:-/tmp}/pw-unit.XXXXXX") || exit 2
trap 'rm -f "$log"' EXIT INT TERM

passed=0
failed=0
skipped=0
for bin in "$@"; do
	name=$(basename "$bin")
	if [ ! -x "$bin" ]; then
		echo "  FAIL    $name: not an executable file"
		failed=$((failed + 1))
		continue
	fi
	# shellcheck disable=SC2086 # the wrapper is a command line on purpose
	timeout "$limit" $wrapper "$bin" >"$log" 2>&1
	rc=$?
	# A test's own status line follows its RUN line (cmocka lists skipped
	# and failed tests again in its summary: those are not counted twice).
	read -r started ok skip <<-EOF
	$(awk '
		/^\[ RUN      \] / { cur = $NF; started++; next }
		/^\[       OK \] / { if ($NF == cur) ok++; cur = ""; next }
		/^\[  SKIPPED \] / { if ($NF == cur) skip++; cur = ""; next }
		END { print started + 0, ok + 0, skip + 0 }' "$log")
	EOF
	skipped=$((skipped + skip))
	bad=$((started - ok - skip))
	# cmocka reports a failing group setup as an error without RUN lines.
	if [ "$bad" -eq 0 ] && [ "$rc" -ne 0 ]; then
		bad=1
	fi
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [ "$rc" -eq 0 ] && [ "$bad" -eq 0 ]; then
		if [ "$skip" -gt 0 ]; then
			echo "  PASS    $name ($ok tests, $skip skipped)"
		else
			echo "  PASS    $name ($ok tests)"
		fi
		continue
	fi
	case $rc in
	124) why="timed out after ${limit}s" ;;
	12[5-9] | 1[3-9][0-9] | 2[0-9][0-9]) why="killed or crashed (status $rc)" ;;
	*) why="exit status $rc" ;;
	esac
	echo "  FAIL    $name: $bad failed, $why; its output:"
	sed 's/^/    | /' "$log"
done

if [ "$skipped" -gt 0 ]; then
	echo "unit: $passed passed, $failed failed, $skipped skipped"
else
	echo "unit: $passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
