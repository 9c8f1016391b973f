#!/usr/bin/env bash
# RabbitMQ for the stream tests (crates/stream, crates/cli/tests/stream*.rs): installs
# rabbitmq-server when missing and starts it when nothing answers on 127.0.0.1:5672. The
# tests use guest/guest (allowed from localhost by default) and unique queue names.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

answering() { (exec 3<>/dev/tcp/127.0.0.1/5672) 2>/dev/null; }

if ! command -v rabbitmq-server >/dev/null; then
  apt-get update -qq
  apt-get install -y -qq rabbitmq-server
fi
if ! answering; then
  service rabbitmq-server start >/dev/null 2>&1 || rabbitmq-server -detached
  for _ in $(seq 1 120); do answering && break; sleep 0.5; done
fi
answering || { echo "rabbitmq-server did not start on 127.0.0.1:5672" >&2; exit 1; }
rabbitmqctl await_startup >/dev/null 2>&1 || true
echo "rabbitmq: answering on 127.0.0.1:5672"
