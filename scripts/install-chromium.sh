#!/usr/bin/env bash
# Make a headless Chromium available for the docs-site and report rendering tests.
#
# Idempotent and quiet: does nothing when a Chromium binary is already on PATH (or in $CHROMIUM).
# Otherwise installs Debian's `chromium` package with apt-get (as root, or through passwordless
# sudo). Tolerant: when it cannot install (no apt-get, no root, no network) it prints one warning
# and exits 0, and the tests that need Chromium skip with a clear reason. Pass --strict to exit 1
# instead.
set -uo pipefail

strict=0
[[ "${1:-}" == "--strict" ]] && strict=1

find_chromium() {
    if [[ -n "${CHROMIUM:-}" && -x "${CHROMIUM}" ]]; then
        echo "${CHROMIUM}"
        return 0
    fi
    local name
    for name in chromium chromium-browser chrome-headless-shell google-chrome google-chrome-stable; do
        if command -v "$name" >/dev/null 2>&1; then
            command -v "$name"
            return 0
        fi
    done
    return 1
}

give_up() {
    echo "install-chromium: $1; tests that render HTML in Chromium will be skipped" >&2
    exit $((strict))
}

if find_chromium >/dev/null; then
    exit 0
fi

command -v apt-get >/dev/null 2>&1 || give_up "no apt-get on this machine (set CHROMIUM=/path/to/chromium)"

if [[ "$(id -u)" -eq 0 ]]; then
    sudo_cmd=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo_cmd=(sudo -n)
else
    give_up "not root and no passwordless sudo"
fi

log="$(mktemp -t install-chromium.XXXXXX.log)"
export DEBIAN_FRONTEND=noninteractive
# apt's package lists may be missing on a fresh machine: update once, then install.
if ! "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium >"$log" 2>&1; then
    if ! { "${sudo_cmd[@]}" apt-get update -qq &&
        "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends chromium; } >>"$log" 2>&1; then
        tail -n 5 "$log" >&2
        give_up "apt-get could not install chromium (log: $log)"
    fi
fi
rm -f "$log"

find_chromium >/dev/null || give_up "chromium was installed but no binary is on PATH"
echo "install-chromium: installed $(find_chromium)" >&2
