#!/usr/bin/env bash
# Installs a real VS Code for the tests, offline-safe: Debian's Chromium (apt) and code-server
# 4.100.3 (the newest on Node 20) with playwright-core (npm), in test/vscode/harness. Idempotent.
# Workarounds (see ../shared/notes/vscode-harness.md): code-server's postinstall needs
# npm_config_unsafe_perm as root and npm_config_yes for node-gyp; kerberos needs libkrb5-dev;
# @vscode/ripgrep 1.15.11 would download rg from GitHub, so its cache is seeded from the
# @vscode/ripgrep-linux-x64 npm package.
set -euo pipefail
cd "$(dirname "$0")/.."
HARNESS=test/vscode/harness

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
dpkg -s pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "vscode-harness: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -x "$HARNESS/node_modules/code-server/out/node/entry.js" ] || [ -f "$HARNESS/node_modules/code-server/out/node/entry.js" ]; then
  if [ -d "$HARNESS/node_modules/playwright-core" ]; then exit 0; fi
fi

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$scratch/tmp/vscode-ripgrep-cache-1.15.11" "$scratch/rg"
(cd "$scratch/rg" && npm pack --silent @vscode/ripgrep-linux-x64@1.18.0 >/dev/null && tar xzf vscode-ripgrep-linux-x64-1.18.0.tgz)
tar czf "$scratch/tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$scratch/rg/package/bin" rg

echo "vscode-harness: npm install in $HARNESS (code-server, playwright-core)"
cd "$HARNESS"
if [ -f package-lock.json ]; then cmd=ci; else cmd=install; fi
TMPDIR="$scratch/tmp" npm_config_unsafe_perm=true npm_config_yes=true npm "$cmd" --no-audit --no-fund --loglevel=error
