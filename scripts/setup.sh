#!/usr/bin/env bash
# Shared set-up: system packages (optional), a virtualenv in .venv, the project.
#   scripts/setup.sh            python only (venv + project + dev extras)
#   scripts/setup.sh --system   also LibreOffice (calc, headless), Chromium, CJK fonts and poppler-utils
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}

want_system=0
[ "${1:-}" = "--system" ] && want_system=1

apt_install() {
  # apt-get as root (or via sudo when available); update once per run
  local SUDO=""
  if [ "$(id -u)" != 0 ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
      echo "需要安装系统软件包：$*；请以 root 身份运行，或手动安装。" >&2; return 1; fi
  fi
  if [ -z "${_APT_UPDATED:-}" ]; then
    $SUDO apt-get update -q >/dev/null
    _APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

if [ "$want_system" = 1 ]; then
  missing=()
  command -v soffice >/dev/null 2>&1 || missing+=(libreoffice-calc-nogui)
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)  # tests/test_print.py
  fc-list 2>/dev/null | grep -qi "noto sans cjk\|wenquanyi\|droid sans fallback" || missing+=(fonts-noto-cjk)
  if [ ${#missing[@]} -gt 0 ]; then
    echo "安装系统软件包：${missing[*]}" >&2
    apt_install "${missing[@]}"
  fi
fi

if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv 2>/dev/null; then
    rm -rf .venv
    echo "安装 python3-venv" >&2
    apt_install python3-venv
    "$PY" -m venv .venv
  fi
fi

# reinstall the project only when pyproject.toml changed
stamp=.venv/.rubric-xl-installed
sum=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$sum" ]; then
  .venv/bin/python -m pip install -q --upgrade pip >/dev/null
  .venv/bin/python -m pip install -q -e ".[dev,addin,durable]"
  echo "$sum" > "$stamp"
fi
