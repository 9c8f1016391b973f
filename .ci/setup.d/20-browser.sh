#!/usr/bin/env bash
# Headless Chromium (Debian's package) and playwright-core (pinned in
# crates/serve/tests/browser/package-lock.json) for the dashboard's browser test,
# crates/cli/tests/browser.rs. No browser build is ever downloaded: playwright-core only
# drives /usr/bin/chromium. Idempotent: installs only what is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
cd "$(dirname "$0")/../.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# A font, so that pages and screenshots have readable text.
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "node $(node --version) is too old for playwright-core (needs 20 or newer)" >&2
  exit 1
fi

dir=crates/serve/tests/browser
want=$(node -p "require('./$dir/package-lock.json').packages['node_modules/playwright-core'].version")
have=$(node -p "try { require('./$dir/node_modules/playwright-core/package.json').version } catch { '' }")
if [ "$have" != "$want" ]; then
  (cd "$dir" && npm ci --no-audit --no-fund)
fi
/usr/bin/chromium --version
echo "playwright-core $want"
