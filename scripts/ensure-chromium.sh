#!/usr/bin/env bash
# Browser journeys drive Debian's chromium through Playwright; the moved-clock runs need libfaketime.
# Install them (with CJK fonts) if missing.
set -euo pipefail
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "Noto Sans CJK" && command -v faketime >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "安装 chromium、fonts-noto-cjk 与 faketime（浏览器测试与改时钟测试需要）…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk faketime >/dev/null
  exit 0
fi
echo "缺少 /usr/bin/chromium、中文字体或 faketime：浏览器测试无法运行。" >&2
echo "请以 root 身份执行：apt-get install -y chromium fonts-noto-cjk faketime，然后重新运行 make test。" >&2
exit 1
