#!/usr/bin/env bash
# Make sure the mail tests (tests/mailservers, tests/channels/email) have their real servers:
# Debian's Dovecot (IMAP) and Postfix (SMTP). The tests start private instances on loopback with
# their own configuration under a temporary folder; the system services are never started.
# Installs the packages with apt when missing.
set -u
packages=()
[ -x /usr/sbin/dovecot ] || packages+=(dovecot-imapd)
[ -x /usr/sbin/postfix ] || packages+=(postfix)
[ ${#packages[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
  echo "ERROR: the mail tests need ${packages[*]} (no apt-get here; install them)"
  exit 1
fi
echo "Installing for the mail tests: ${packages[*]}"
export DEBIAN_FRONTEND=noninteractive
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get install -y -q "${packages[@]}" >/dev/null 2>&1 \
  || { $sudo apt-get update -q >/dev/null 2>&1 && $sudo apt-get install -y -q "${packages[@]}" >/dev/null; } \
  || { echo "ERROR: could not install ${packages[*]} with apt-get"; exit 1; }
[ -x /usr/sbin/dovecot ] && [ -x /usr/sbin/postfix ] || { echo "ERROR: Dovecot or Postfix is still missing"; exit 1; }
