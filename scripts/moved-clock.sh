#!/usr/bin/env bash
# Every date works: with the machine's clock moved to WHEN (libfaketime, the clock then runs on from it),
# set up the platform as `make run` does on a fresh SQLite database, serve it with its worker as `make run`
# does (`yuexiu serve`), fetch the main pages, stop it with SIGTERM (it must exit 0 without a traceback),
# and run the browser journeys.
#   scripts/moved-clock.sh "2026-12-28 10:00:00"
set -euo pipefail
cd "$(dirname "$0")/.."
when="$1"
lib="$(ls /usr/lib/*/faketime/libfaketime.so.1 2>/dev/null | head -1)"
if [ -z "$lib" ]; then
  echo "缺少 libfaketime：请以 root 身份执行 apt-get install -y faketime。" >&2
  exit 1
fi
var="$(mktemp -d)"
port="${MOVED_CLOCK_PORT:-$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])")}"
trap 'kill -TERM ${server:-} 2>/dev/null || true; rm -rf "$var"' EXIT
export FAKETIME="@$when" LD_PRELOAD="$lib" YUEXIU_VAR_DIR="$var"
unset DATABASE_URL
echo "== 改时钟运行：$(date '+%Y-%m-%d %H:%M')（$var） =="
.venv/bin/yuexiu migrate --no-input -v0
.venv/bin/yuexiu setup --demo > "$var/setup.log"
grep -E "演示办件|演示匹配" "$var/setup.log" || true
.venv/bin/yuexiu serve "127.0.0.1:$port" > "$var/server.log" 2>&1 &  # what `make run` runs
server=$!
for _ in $(seq 1 120); do
  kill -0 "$server" 2>/dev/null || { echo "服务未能启动：" >&2; cat "$var/server.log" >&2; exit 1; }
  curl -fs -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 1
done
today="$(date +%F)"
for path in / /services/ /policies/ /organisations/ /api/v1/catalog/items "/api/v1/workdays/add?start=$today&days=20"; do
  status="$(curl -s -o "$var/page" -w '%{http_code}' "http://127.0.0.1:$port$path")"
  if [ "$status" != 200 ]; then
    echo "改时钟运行失败：$path 返回 $status" >&2
    cat "$var/page" "$var/server.log" >&2
    exit 1
  fi
done
grep -q '"is_provisional"' "$var/page" || { echo "工作日接口缺少 is_provisional" >&2; exit 1; }
kill -TERM "$server"
wait "$server" || { echo "网站与后台任务进程未能正常退出：" >&2; cat "$var/server.log" >&2; exit 1; }
server=""
if grep -q "Traceback" "$var/server.log"; then
  echo "改时钟运行中出现异常：" >&2
  cat "$var/server.log" >&2
  exit 1
fi
.venv/bin/python -m pytest -q -p no:randomly e2e
