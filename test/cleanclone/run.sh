#!/usr/bin/env bash
# Runs the README's two commands, `go run ./cmd/imageshare sandbox` and `go test ./...`,
# in a copy of the repository's tracked files placed alone in an empty temporary folder,
# with HOME and TMPDIR inside that folder: a test that reads a file outside the
# repository, or anything personal, fails here instead of passing by luck.
#
#   test/cleanclone/run.sh                 # the two README commands
#   test/cleanclone/run.sh go vet ./...    # any other command, run in the copy
#
# The module and build caches are the caller's (`go env GOMODCACHE GOCACHE`), so modules
# download once; the go command's other settings are passed on as `go env` reports them,
# with -trimpath added so the copy's build cache keys do not depend on the temporary path.
# IMAGESHARE_CLEANCLONE=1 is set in the copy (test/cleanclone then skips itself).
# IMAGESHARE_CLEANCLONE_KEEP=1 keeps the copy for inspection.
set -euo pipefail

src="$(cd "$(dirname "$0")/../.." && pwd)"
command -v go >/dev/null || { echo "run.sh: go is not on PATH" >&2; exit 2; }
command -v git >/dev/null || { echo "run.sh: git is not on PATH (it lists the tracked files)" >&2; exit 2; }

top="$(mktemp -d "${TMPDIR:-/tmp}/imageshare-cleanclone.XXXXXX")"
cleanup() {
	if [ -n "${IMAGESHARE_CLEANCLONE_KEEP:-}" ]; then
		echo "run.sh: kept the copy in $top" >&2
	else
		chmod -R u+w "$top" 2>/dev/null || true
		rm -rf "$top"
	fi
}
trap cleanup EXIT

# top/work/imageshare is the copy, alone in its folder; HOME and TMPDIR are beside work/.
repo="$top/work/imageshare"
mkdir -p "$repo" "$top/home" "$top/tmp"
# The tracked files as they are in the working tree (a tracked file deleted there is left out).
git -C "$src" ls-files -z | while IFS= read -r -d '' f; do
	if [ -e "$src/$f" ] || [ -L "$src/$f" ]; then printf '%s\0' "$f"; fi
done | tar -C "$src" --null -T - -cf - | tar -C "$repo" -xf -
echo "run.sh: copied $(git -C "$src" ls-files | wc -l | tr -d ' ') tracked files into $repo" >&2

goenv() { go env "$1"; }
env_vars=(
	"PATH=$PATH"
	"HOME=$top/home" "TMPDIR=$top/tmp" "GOPATH=$top/home/go"
	"GOROOT=$(goenv GOROOT)" "GOMODCACHE=$(goenv GOMODCACHE)" "GOCACHE=$(goenv GOCACHE)"
	"GOPROXY=$(goenv GOPROXY)" "GOSUMDB=$(goenv GOSUMDB)" "GONOSUMDB=$(goenv GONOSUMDB)"
	"GOPRIVATE=$(goenv GOPRIVATE)" "GONOPROXY=$(goenv GONOPROXY)" "GOINSECURE=$(goenv GOINSECURE)"
	"GOTOOLCHAIN=$(goenv GOTOOLCHAIN)" "CGO_ENABLED=$(goenv CGO_ENABLED)"
	"GOFLAGS=$(goenv GOFLAGS) -trimpath" "GOENV=off" "GOWORK=off"
	"IMAGESHARE_CLEANCLONE=1"
)

cd "$repo"
if [ "$#" -gt 0 ]; then
	env -i "${env_vars[@]}" "$@"
else
	env -i "${env_vars[@]}" go run ./cmd/imageshare sandbox
	env -i "${env_vars[@]}" go test ./...
fi
