#!/usr/bin/env bash
# Make sure the browser tests (tests/browser) have what they drive: Debian's Chromium, with fonts
# for Chinese text and emoji so the screenshots they keep are readable. Playwright's own browser
# download is not used (KEFU_CHROMIUM names another binary). Installs with apt when missing.
set -u
chromium="${KEFU_CHROMIUM:-/usr/bin/chromium}"
packages=()
[ -x "$chromium" ] || packages+=(chromium)
fc-list 2>/dev/null | grep -qiE "WenQuanYi|Noto Sans CJK|Source Han Sans" || packages+=(fonts-wqy-microhei)
fc-list 2>/dev/null | grep -qi "Noto Color Emoji" || packages+=(fonts-noto-color-emoji)
[ ${#packages[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: the browser tests need ${packages[*]} (no apt-get here; install them, or set KEFU_CHROMIUM)"
  exit 1
fi
echo "Installing for the browser tests: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get install -y -q "${packages[@]}" >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "${packages[@]}" >/dev/null; } \
  || { echo "ERROR: could not install ${packages[*]} with apt-get"; exit 1; }
[ -x "$chromium" ] || { echo "ERROR: $chromium is still missing"; exit 1; }
