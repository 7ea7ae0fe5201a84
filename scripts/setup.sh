#!/usr/bin/env bash
# Installs gpbo's build dependencies from Debian when any is missing (needs root or sudo).
set -euo pipefail
packages=(build-essential cmake libeigen3-dev liblbfgspp-dev libboost-dev nlohmann-json3-dev
  libcli11-dev libspdlog-dev libfmt-dev libopenblas-dev liblapacke-dev libgtest-dev
  libbenchmark-dev libsqlite3-dev libpq-dev libssl-dev postgresql libcpp-httplib-dev pkg-config python3 python3-venv python3-dev curl)
# `setup.sh --tests`: what only the tests need as well (a browser for the report's tests, the
# openssl CLI for the TLS tests' private CA).
[ "${1:-}" = "--tests" ] && packages+=(chromium openssl)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
echo "setup: dependencies present"
