#!/usr/bin/env bash
# The whole test suite, from a fresh Debian bookworm with only python3, python3-venv and
# python3-pip: installs the Debian packages the tests start as real peers, makes .venv,
# installs Vigil with its test extras, then runs pytest (arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."

# Real peers the tests start on 127.0.0.1, and what runs them.
DEBIAN_PACKAGES=(postgresql util-linux snmpd snmp victoria-metrics openssh-server openssh-client
                 fonts-wqy-microhei poppler-utils libpango-1.0-0 libpangoft2-1.0-0 iputils-ping traceroute)

missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "tests/run.sh: installing Debian packages: ${missing[*]}" >&2
    if [ "$(id -u)" -eq 0 ]; then SUDO=(); else SUDO=(sudo); fi
    export DEBIAN_FRONTEND=noninteractive
    "${SUDO[@]}" apt-get update -qq
    # The tests never use the system's own PostgreSQL cluster: they start a private one.
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

exec .venv/bin/python -m pytest "$@"
