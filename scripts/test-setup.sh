#!/usr/bin/env bash
# Brings up what the test suite talks to for real: PostgreSQL (started if down) and
# Debian's Chromium + ChromeDriver for the browser tests (installed if missing), and the
# test OpenID Connect provider's Node packages.
set -euo pipefail

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  fi
fi

# The OpenID Connect provider the single sign-on tests sign in through (tests/oidc): Node's
# oidc-provider at the version package-lock.json pins, from the npm registry.
if command -v node >/dev/null 2>&1 && [ ! -d "$(dirname "$0")/../tests/oidc/node_modules/oidc-provider" ]; then
  (cd "$(dirname "$0")/../tests/oidc" && npm ci --no-audit --no-fund --silent)
fi
