#!/usr/bin/env bash
# Make sure the deployment test (tests/deploy) has its real reverse proxy: Debian's nginx. The
# test starts a private instance on loopback (`nginx -p DIR -c FILE`, its configuration made
# from deploy/nginx/kefu.conf under a temporary folder); the system service is never started.
# Installs the package with apt when missing.
set -u
[ -x /usr/sbin/nginx ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: the deployment test needs nginx (no apt-get here; install it)"
  exit 1
fi
echo "Installing for the deployment test: nginx"
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get install -y -q nginx >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q nginx >/dev/null; } \
  || { echo "ERROR: could not install nginx with apt-get"; exit 1; }
[ -x /usr/sbin/nginx ] || { echo "ERROR: nginx is still missing"; exit 1; }
