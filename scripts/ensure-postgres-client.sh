#!/usr/bin/env bash
# `yuexiu backup` and `yuexiu restore` on PostgreSQL run pg_dump and pg_restore (tests/test_backup.py).
# Install Debian's postgresql-client if they are missing.
set -euo pipefail
if command -v pg_dump >/dev/null && command -v pg_restore >/dev/null; then
  exit 0
fi
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "安装 postgresql-client（备份与恢复测试需要 pg_dump、pg_restore）…"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null
  exit 0
fi
echo "缺少 pg_dump / pg_restore：PostgreSQL 上的备份与恢复测试无法运行。" >&2
echo "请以 root 身份执行：apt-get install -y postgresql-client（主版本不低于数据库服务器），然后重新运行 make test。" >&2
exit 1
