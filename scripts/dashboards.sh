#!/usr/bin/env bash
# Prometheus for the dashboards, in one command: scrapes kemala (by default
# the demo on 127.0.0.1:8080) with the project's config and rules
# (config/prometheus/), listens on 127.0.0.1 only, and prints how to point a
# Grafana at config/grafana/provisioning. Installs Debian's `prometheus`
# package if it is missing. Ctrl-C stops it.
#
#   cargo run --release -- demo      # in one terminal
#   bash scripts/dashboards.sh       # in another
#
# Environment (all optional):
#   KEMALA_ADDR       kemala's HTTP address          (127.0.0.1:8080)
#   PROMETHEUS_PORT   Prometheus' port on 127.0.0.1  (9090, what the Grafana
#                     data source in config/grafana/provisioning expects)
#   SCRAPE_INTERVAL   scrape and rule evaluation     (the config's 15s)
#   PROMETHEUS_DATA   where Prometheus keeps its data (data/prometheus)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
kemala_addr=${KEMALA_ADDR:-127.0.0.1:8080}
port=${PROMETHEUS_PORT:-9090}
data=${PROMETHEUS_DATA:-data/prometheus}

if ! command -v prometheus >/dev/null 2>&1; then
  echo "scripts/dashboards.sh: installing Debian's prometheus package" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package starts its own service on port 9090 (all interfaces, its own
  # config): this script runs Prometheus itself, so that one is stopped.
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    $SUDO systemctl disable --now prometheus >/dev/null 2>&1 || true
    echo "scripts/dashboards.sh: stopped and disabled the package's own prometheus service" >&2
  fi
fi

if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "scripts/dashboards.sh: 127.0.0.1:$port is taken (Debian's own prometheus service? sudo systemctl stop prometheus)," >&2
  echo "  or choose another port: PROMETHEUS_PORT=9091 bash scripts/dashboards.sh" >&2
  exit 1
fi

# A copy of config/prometheus (rule files are relative to the config), with
# the target and intervals asked for; the rules are the project's own.
mkdir -p "$data"
conf="$data/config"
rm -rf "$conf"
cp -r config/prometheus "$conf"
sed -i "s/127\.0\.0\.1:8080/$kemala_addr/" "$conf/prometheus.yml"
if [ -n "${SCRAPE_INTERVAL:-}" ]; then
  sed -i -E "s/^( *)(scrape_interval|evaluation_interval): .*/\1\2: $SCRAPE_INTERVAL/" "$conf/prometheus.yml"
fi
interval=$(sed -n -E 's/^ *scrape_interval: *([^ #]+).*/\1/p' "$conf/prometheus.yml" | tail -1)

cat <<EOF
Prometheus: http://127.0.0.1:$port/ scraping kemala at $kemala_addr every $interval,
  with the rules of config/prometheus/rules (data in $data; Ctrl-C stops it).
  Try: http://127.0.0.1:$port/graph?g0.expr=sum%20by%20(topic%2C%20region)%20(kemala_alerts_firing)

Grafana 10+ shows the dashboards when pointed at the repository's provisioning:
  KEMALA_DASHBOARDS=$repo/dashboards \\
  GF_PATHS_PROVISIONING=$repo/config/grafana/provisioning \\
    grafana server --homepath /usr/share/grafana
or with Docker:
  docker run --rm --network host -e KEMALA_DASHBOARDS=/var/lib/grafana/dashboards/kemala \\
    -v $repo/dashboards:/var/lib/grafana/dashboards/kemala:ro \\
    -v $repo/config/grafana/provisioning:/etc/grafana/provisioning:ro grafana/grafana:10.4.2
then open http://127.0.0.1:3000 (admin/admin) → Dashboards → kemala.
EOF
if [ "$port" != 9090 ]; then
  echo "  (the provisioned data source reads http://127.0.0.1:9090: change its url in"
  echo "   config/grafana/provisioning/datasources/kemala.yaml to http://127.0.0.1:$port)"
fi
echo

exec prometheus --config.file="$conf/prometheus.yml" \
  --storage.tsdb.path="$data/tsdb" \
  --web.listen-address="127.0.0.1:$port"
