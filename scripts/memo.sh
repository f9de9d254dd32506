# shellcheck shell=bash
# hvt_memo BINARY ARG...: BINARY's output (stdout and stderr) and status for
# ARG..., remembered in build/cache/memo-* while the memo is newer than the
# binary. Hypervisors are asked for their version and options on every run
# (a QEMU start costs 20 ms, Bochs' more); the key and the freshness test use
# no extra process. Sourced by scripts/hv.sh and scripts/bochs/lib.sh.

HVT_MEMO_DIR=${HVT_MEMO_DIR:-$(d=${BASH_SOURCE[0]}; [[ "$d" == */* ]] && d=${d%/*} || d=.; cd "$d/.." && pwd)/build/cache}

hvt_memo() {
	local bin=$1 path key file out rc lines tmp
	shift
	path=$(type -P "$bin") || { "$bin" "$@" </dev/null 2>&1; return; }
	key="$path $*"
	key=${key//[^A-Za-z0-9.+-]/_}
	file=$HVT_MEMO_DIR/memo-$key
	if [[ -f "$file" && "$file" -nt "$path" ]]; then
		mapfile -t lines <"$file"
		printf '%s\n' "${lines[@]:1}"
		return "${lines[0]}"
	fi
	out=$("$bin" "$@" </dev/null 2>&1)
	rc=$?
	# A temporary that nobody can guess, beside the memo, then a rename.
	if mkdir -p "$HVT_MEMO_DIR" 2>/dev/null && tmp=$(mktemp "$file.XXXXXX" 2>/dev/null); then
		if ! { printf '%s\n%s\n' "$rc" "$out" >"$tmp" && mv -f "$tmp" "$file"; }; then
			rm -f "$tmp"
		fi
	fi
	printf '%s\n' "$out"
	return "$rc"
}
