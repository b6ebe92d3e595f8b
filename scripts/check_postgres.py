"""Fail early, with a clear message, when the PostgreSQL server for the test run is unreachable."""

import sys

import psycopg

url = sys.argv[1]
admin_url = url.rsplit("/", 1)[0] + "/postgres"
try:
    with psycopg.connect(admin_url, connect_timeout=5) as connection:
        connection.execute("select 1")
except psycopg.Error as error:
    sys.exit(
        f"无法连接 PostgreSQL（{admin_url}）：{error}\n"
        "请启动 PostgreSQL，或用 PG_URL=postgres://用户@主机:端口/库名 指定。"
    )
print(f"PostgreSQL 可用：{admin_url}")
