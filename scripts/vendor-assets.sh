#!/bin/sh
# The browser libraries the workspace serves (htmx, Chart.js for the listening page's charts), installed from the npm registry at the
# versions web-assets/package-lock.json pins (with their integrity hashes), then copied into
# the package's static folder: kefu serves them itself, nothing comes from a CDN at run time.
set -eu
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "vendor-assets: npm is needed once to install the workspace's browser libraries (apt install npm)" >&2
  exit 1
fi
npm ci --prefix web-assets --no-audit --no-fund --ignore-scripts --loglevel=error
mkdir -p src/kefu/web/static/vendor
cp web-assets/node_modules/htmx.org/dist/htmx.min.js src/kefu/web/static/vendor/htmx.min.js
cp web-assets/node_modules/chart.js/dist/chart.umd.min.js src/kefu/web/static/vendor/chart.umd.min.js
echo "vendor-assets: htmx $(node -p "require('./web-assets/node_modules/htmx.org/package.json').version" 2>/dev/null || echo '?'), Chart.js $(node -p "require('./web-assets/node_modules/chart.js/package.json').version" 2>/dev/null || echo '?') in src/kefu/web/static/vendor/"
