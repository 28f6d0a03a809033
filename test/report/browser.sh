#!/usr/bin/env bash
# Installs Debian's chromium when no headless Chromium is on the machine, for the test
# that renders `imageshare report --html` (cmd/imageshare, TestReportHTMLInABrowser).
# .ci/run calls it; the test fails in CI (CI=true) without a browser and skips elsewhere.
set -euo pipefail
for b in chromium chromium-browser google-chrome google-chrome-stable; do
	if command -v "$b" >/dev/null 2>&1; then
		echo "browser: $(command -v "$b") ($("$b" --version 2>/dev/null || echo 'version unknown'))"
		exit 0
	fi
done
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
	echo "browser: no Chromium, and cannot install one here (needs root and apt-get): apt-get install chromium" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
echo "browser: installed $(command -v chromium) ($(chromium --version 2>/dev/null || echo 'version unknown'))"
