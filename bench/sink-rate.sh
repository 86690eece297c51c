#!/usr/bin/env bash
# Measures the trigger-sink's throughput (commands/s, each a lookup and a rebuild POST, with its journal
# transactions) against the buildapi simulator and an in-process Kafka broker.
# usage: bench/sink-rate.sh [COMMANDS=2000]
set -euo pipefail
cd "$(dirname "$0")/.."
./mvnw -q -B -DskipTests install >&2
cp_file="$(mktemp)"
trap 'rm -f "$cp_file"' EXIT
./mvnw -q -B -pl trigger-sink dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$cp_file" >&2
java -Dorg.slf4j.simpleLogger.defaultLogLevel=warn -cp "trigger-sink/target/test-classes:trigger-sink/target/classes:$(cat "$cp_file")" \
  org.triggerbot.sink.SinkBenchmark "${1:-2000}"
