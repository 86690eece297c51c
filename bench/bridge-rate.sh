#!/usr/bin/env bash
# Measures the bridge's sustained rate (messages/s, MB/s) between a local AMQP broker (embedded Qpid, or the
# RabbitMQ at RABBITMQ_URL) and an in-process Kafka broker: the messages are queued first, then drained.
# usage: bench/bridge-rate.sh [MESSAGES=20000] [BODY_BYTES=4000] [PREFETCH=200]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -DskipTests install >&2
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B -pl bridge dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "bridge/target/test-classes:bridge/target/classes:$(cat "$cp_file")" \
  org.triggerbot.bridge.BridgeBenchmark "${1:-20000}" "${2:-4000}" "${3:-200}"
