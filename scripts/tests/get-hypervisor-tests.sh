#!/usr/bin/env bash
# Tests of scripts/get-hypervisor that need no network: the help, the error
# lines of unknown names and versions, --list, idempotence on a cache filled
# beforehand (HVT_CACHE_DIR), and that an interrupted or partial cache entry
# is never used. apt-get and apt-cache are fakes on PATH that record their
# calls and fail as if the archive were unreachable, so that nothing here can
# reach it. Output is TAP, then "get-hypervisor tests: P passed, F failed".
set -u
SUITE="get-hypervisor tests"
CLEAR_OUTPUT_AFTER_TEST=1
# shellcheck source=scripts/tests/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CACHE=$WORK/cache
APT_LOG=$WORK/apt.log
FAKE_BIN=$WORK/bin

# gh [ARG...]: the fake tree's get-hypervisor with the test cache and the
# fake apt; FAKE_APT_UPDATE=ok makes the fake `apt-get update` succeed.
gh() {
	PATH="$FAKE_BIN:$PATH" HVT_CACHE_DIR=$CACHE FAKE_APT_LOG=$APT_LOG \
		"$TREE/scripts/get-hypervisor" "$@" >"$out" 2>"$err"
	rc=$?
}

setup() {
	mkdir -p "$FAKE_BIN"
	cat >"$FAKE_BIN/apt-get" <<'EOF'
#!/bin/sh
echo "apt-get $*" >>"$FAKE_APT_LOG"
case " $* " in
*" update "*) [ "${FAKE_APT_UPDATE:-fail}" = ok ] && exit 0 ;;
esac
echo "E: fake apt-get: no network in this test" >&2
exit 100
EOF
	cat >"$FAKE_BIN/apt-cache" <<'EOF'
#!/bin/sh
# An archive that has nothing.
echo "apt-cache $*" >>"$FAKE_APT_LOG"
exit 0
EOF
	chmod 755 "$FAKE_BIN/apt-get" "$FAKE_BIN/apt-cache"
}

expect_no_apt() {
	[[ ! -s "$APT_LOG" ]] || fail "apt was called: $(head -n 3 "$APT_LOG")"
}

expect_apt() {
	[[ -s "$APT_LOG" ]] || fail "apt was not called"
}

# expect_stderr_lines N: stderr has exactly N lines.
expect_stderr_lines() {
	local n
	n=$(wc -l <"$err")
	((n == $1)) || fail "stderr has $n lines, expected $1"
}

reset_state() {
	rm -rf "$CACHE" "$TREE/build/hv" "$TREE/build/apt" "$APT_LOG"
}

# fill NAME VERSION [VERSION-FILE]: a finished cache entry, as a real run leaves it.
fill() {
	local name=$1 ver=$2 upstream=${3:-$2.9} dir
	gh --cache-path "$name" "$ver"
	dir=$(cat "$out")
	: >"$out"
	mkdir -p "$dir"
	case "$name" in
	xen)
		mkdir -p "$dir/boot"
		printf '\177ELF\001fake xen' >"$dir/boot/xen"
		gzip -c "$dir/boot/xen" >"$dir/boot/xen.gz"
		;;
	qemu | bochs)
		mkdir -p "$dir/bin"
		printf '#!/bin/sh\necho fake %s\n' "$name" >"$dir/bin/${name/qemu/qemu-system-x86_64}"
		chmod 755 "$dir/bin/"*
		;;
	esac
	echo "$upstream" >"$dir/version"
	echo "fake-package $upstream-1 (test)" >"$dir/source"
	echo 2026-01-01T00:00:00Z >"$dir/.hvtest-complete"
	echo "$dir"
}

test_help() {
	reset_state
	gh --help
	expect_rc 0
	expect_line "$out" '^Usage: scripts/get-hypervisor NAME VERSION$'
	expect_line "$out" '^  qemu 10\.0 '
	expect_line "$out" '^  bochs 3\.0 '
	expect_line "$out" '^  xen 4\.17 '
	expect_line "$out" '^  xen 4\.20 '
	expect_line "$out" '--all'
	expect_line "$out" "$CACHE"
	expect_no_apt
	finish "--help: usage on stdout, every version named, exit 0, no apt"

	gh
	expect_rc 2
	expect_line "$err" '^Usage: '
	finish "no arguments: usage on stderr, exit 2"

	gh --frobnicate
	expect_rc 2
	expect_line "$err" "unknown option '--frobnicate'"
	finish "an unknown option: exit 2"

	gh qemu 10.0 extra
	expect_rc 2
	expect_line "$err" '^get-hypervisor: usage: '
	finish "too many arguments: exit 2"
}

test_unknown() {
	reset_state
	gh frob 1.0
	expect_rc 1
	expect_stderr_lines 1
	expect_line "$err" "^get-hypervisor: unknown hypervisor 'frob' \(known: xen qemu bochs\)$"
	expect_no_apt
	[[ ! -e "$TREE/build/hv/frob-1.0" ]] || fail "build/hv/frob-1.0 exists"
	finish "an unknown name: one error line naming it, exit 1, no apt"

	gh qemu 9.9
	expect_rc 1
	expect_stderr_lines 1
	expect_line "$err" "^get-hypervisor: qemu: unknown version '9\.9' \(known: 10\.0 7\.2-gcov\)$"
	expect_no_apt
	finish "an unknown QEMU version: one error line naming it, exit 1"

	gh xen 4.19
	expect_rc 1
	expect_line "$err" "^get-hypervisor: xen: unknown version '4\.19' \(known: 4\.17 4\.20\)$"
	finish "an unknown Xen version: the known ones listed"

	gh --cache-path bochs 2.7
	expect_rc 1
	expect_line "$err" "unknown version '2\.7'"
	finish "--cache-path of an unknown version: error"
	[[ ! -e "$CACHE" ]] || fail "the errors created the cache $CACHE"
	finish "the errors leave no cache behind"
}

test_list_empty() {
	reset_state
	gh --list
	expect_rc 0
	expect_line "$out" '^NAME +VERSION +FROM +STATUS$'
	expect_line "$out" '^qemu +10\.0 +.*bookworm-backports.* not provisioned$'
	expect_line "$out" '^bochs +3\.0 +.*trixie.* not provisioned$'
	expect_line "$out" '^xen +4\.17 +.*bookworm.* not provisioned$'
	expect_line "$out" '^xen +4\.20 +.*trixie.* not provisioned$'
	expect_line "$out" '^qemu +7\.2-gcov +.*bookworm.*gcov.* not provisioned$'
	expect_line "$out" '^bochs +3\.0-gcov +.*trixie.*gcov.* not provisioned$'
	expect_line "$out" "^cache: $CACHE\$"
	expect_no_apt
	finish "--list on an empty cache: every version, not provisioned, no apt"
}

test_cached() {
	local x t0 t1 ms target
	reset_state
	x=$(fill xen 4.20 4.20.4)
	gh xen 4.20
	expect_rc 0
	expect_line "$out" '^get-hypervisor: xen 4\.20: build/hv/xen-4\.20 \(4\.20\.4, cached\)$'
	expect_no_apt
	target=$(readlink "$TREE/build/hv/xen-4.20")
	[[ "$target" == "$x" ]] || fail "build/hv/xen-4.20 -> '$target', expected '$x'"
	[[ -f "$TREE/build/hv/xen-4.20/boot/xen" ]] || fail "no build/hv/xen-4.20/boot/xen through the link"
	finish "a cached version: build/hv/NAME-VERSION links to the cache entry, no apt"

	t0=$(date +%s%N)
	gh xen 4.20
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	expect_rc 0
	expect_no_apt
	[[ "$(readlink "$TREE/build/hv/xen-4.20")" == "$x" ]] || fail "the link changed"
	((ms < 1000)) || fail "the second run took $ms ms"
	finish "a second run does nothing expensive ($ms ms)"

	rm -rf "$TREE/build"
	mkdir -p "$TREE/build"
	gh xen 4.20
	expect_rc 0
	expect_no_apt
	[[ "$(readlink "$TREE/build/hv/xen-4.20")" == "$x" ]] || fail "no link after build/ was removed"
	finish "a fresh build/ (as in CI) gets the link back from the cache, no apt"

	ln -sfn "$WORK/elsewhere" "$TREE/build/hv/xen-4.20"
	gh xen 4.20
	expect_rc 0
	[[ "$(readlink "$TREE/build/hv/xen-4.20")" == "$x" ]] || fail "a stale link was not replaced"
	finish "a stale link is replaced"

	rm "$TREE/build/hv/xen-4.20"
	mkdir -p "$TREE/build/hv/xen-4.20"
	gh xen 4.20
	expect_rc 1
	expect_line "$err" 'xen 4\.20: .*build/hv/xen-4\.20 exists and is not a link'
	finish "a directory in place of the link: error, left alone"
	rmdir "$TREE/build/hv/xen-4.20"
}

test_all_cached() {
	local e name ver
	reset_state
	fill xen 4.17 4.17.7 >/dev/null
	fill xen 4.20 4.20.4 >/dev/null
	fill qemu 10.0 10.0.2 >/dev/null
	fill bochs 3.0 3.0 >/dev/null
	gh --all
	expect_rc 0
	expect_no_apt
	for e in xen-4.17 xen-4.20 qemu-10.0 bochs-3.0; do
		[[ -L "$TREE/build/hv/$e" && -f "$TREE/build/hv/$e/version" ]] || fail "no build/hv/$e"
	done
	[[ "$("$TREE/build/hv/qemu-10.0/bin/qemu-system-x86_64")" == "fake qemu" ]] ||
		fail "build/hv/qemu-10.0/bin/qemu-system-x86_64 is not the cached one"
	[[ -x "$TREE/build/hv/bochs-3.0/bin/bochs" ]] || fail "no build/hv/bochs-3.0/bin/bochs"
	finish "--all on a full cache: four links, no apt"

	gh --list
	expect_rc 0
	for e in "xen 4.17 4.17.7" "xen 4.20 4.20.4" "qemu 10.0 10.0.2" "bochs 3.0 3.0"; do
		read -r name ver up <<<"$e"
		expect_line "$out" "^$name +${ver//./\\.} .* provisioned ${up//./\\.}: build/hv/$name-${ver//./\\.}\$"
	done
	finish "--list shows the provisioned versions"

	rm "$TREE/build/hv/qemu-10.0"
	gh --list
	expect_line "$out" '^qemu +10\.0 .* cached 10\.0\.2 \(not linked'
	finish "--list tells a cached but unlinked version"
}

test_bochs_key() {
	reset_state
	gh --cache-path bochs 3.0
	expect_rc 0
	expect_line "$out" "^$CACHE/trees/bochs-3\.0-[0-9a-f]{12}\$"
	finish "the Bochs cache key holds a hash of the build options"
	gh --cache-path qemu 10.0
	expect_line "$out" "^$CACHE/trees/qemu-10\.0\$"
	finish "the QEMU cache key is NAME-VERSION"
	local plain gcov
	plain=$(gh --cache-path bochs 3.0 && cat "$out")
	gh --cache-path bochs 3.0-gcov
	expect_rc 0
	expect_line "$out" "^$CACHE/trees/bochs-3\.0-gcov-[0-9a-f]{12}\$"
	gcov=$(cat "$out")
	[[ "${plain##*-}" != "${gcov##*-}" ]] || fail "the gcov build has the hash of the plain one"
	gh --cache-path qemu 7.2-gcov
	expect_line "$out" "^$CACHE/trees/qemu-7\.2-gcov-[0-9a-f]{12}\$"
	finish "the gcov builds' keys hold a hash of their options and flags, not the plain build's"
}

test_partial() {
	local x
	reset_state
	# A tree without the completion mark: as if copied or damaged half-way.
	x=$(fill xen 4.17 4.17.7)
	rm "$x/.hvtest-complete"
	gh xen 4.17
	expect_rc 1
	expect_stderr_lines 2
	expect_line "$err" '^get-hypervisor: xen 4\.17: apt-get update of the private lists failed: E: fake apt-get: no network'
	expect_apt
	[[ ! -e "$TREE/build/hv/xen-4.17" ]] || fail "build/hv/xen-4.17 was linked to a partial entry"
	finish "an entry without its completion mark is not used (it provisions, here: fails)"

	gh --list
	expect_line "$out" '^xen +4\.17 .* not provisioned$'
	finish "--list does not count a partial entry"

	# Without its version file.
	x=$(fill xen 4.20 4.20.4)
	rm "$x/version"
	rm -f "$APT_LOG"
	gh xen 4.20
	expect_rc 1
	expect_apt
	[[ ! -e "$TREE/build/hv/xen-4.20" ]] || fail "linked to an entry without version"
	finish "an entry without its version file is not used"

	# What an interrupted run leaves: a finished-looking tree in tmp/.
	reset_state
	mkdir -p "$CACHE/tmp/xen-4.20.AbCdEf/boot"
	echo 4.20.4 >"$CACHE/tmp/xen-4.20.AbCdEf/version"
	: >"$CACHE/tmp/xen-4.20.AbCdEf/source"
	: >"$CACHE/tmp/xen-4.20.AbCdEf/.hvtest-complete"
	gh xen 4.20
	expect_rc 1
	[[ ! -e "$TREE/build/hv/xen-4.20" ]] || fail "linked to an interrupted run's temporary tree"
	[[ ! -e "$CACHE/tmp/xen-4.20.AbCdEf" ]] || fail "the interrupted run's temporary tree is still there"
	[[ ! -e "$CACHE/trees/xen-4.20" ]] || fail "a failed run left trees/xen-4.20"
	finish "an interrupted run's temporary tree is never used, and is removed"

	[[ -z "$(ls -A "$CACHE/tmp")" ]] || fail "left in tmp/: $(ls -A "$CACHE/tmp")"
	finish "a failed run leaves nothing in the cache's tmp/"
}

test_archive_lacks() {
	reset_state
	FAKE_APT_UPDATE=ok gh xen 4.20
	expect_rc 1
	expect_stderr_lines 2
	expect_line "$err" '^get-hypervisor: updating the package lists'
	expect_line "$err" '^get-hypervisor: xen 4\.20: the archive has no xen-hypervisor-4\.20-amd64 in trixie'
	[[ ! -e "$TREE/build/hv/xen-4.20" && ! -e "$CACHE/trees/xen-4.20" ]] || fail "something was installed"
	finish "a version the archive lacks: one error line naming it, exit 1"

	[[ -f "$TREE/build/apt/sources.list" ]] || fail "no build/apt/sources.list"
	expect_line "$TREE/build/apt/sources.list" '^deb .* bookworm-backports main$'
	expect_line "$TREE/build/apt/sources.list" '^deb-src .* bookworm-backports main$'
	expect_line "$TREE/build/apt/sources.list" '^deb .* trixie main$'
	expect_line "$TREE/build/apt/sources.list" '^deb-src .* trixie main$'
	expect_line "$APT_LOG" 'Dir::Etc::SourceParts=-'
	expect_line "$APT_LOG" "Dir::State=$TREE/build/apt/state"
	finish "apt runs on the private configuration in build/apt"

	rm -f "$APT_LOG"
	FAKE_APT_UPDATE=ok gh qemu 10.0
	expect_rc 1
	expect_no_line "$APT_LOG" 'apt-get .* update'
	expect_line "$err" '^get-hypervisor: qemu 10\.0: the archive has no qemu-system-x86 10\.0 in bookworm-backports'
	finish "fresh private lists are not updated again"

	FAKE_APT_UPDATE=ok gh --all
	expect_rc 1
	expect_line "$err" 'xen 4\.17: the archive has no'
	expect_line "$err" 'xen 4\.20: the archive has no'
	expect_line "$err" 'qemu 10\.0: the archive has no'
	expect_line "$err" 'bochs 3\.0: the archive has no'
	finish "--all goes on past a failure and exits non-zero"
	expect_no_line "$err" 'gcov'
	finish "--all leaves the gcov builds of make coverage alone"
}

setup
run_test_main test_help test_unknown test_list_empty test_cached test_all_cached test_bochs_key \
	test_partial test_archive_lacks
