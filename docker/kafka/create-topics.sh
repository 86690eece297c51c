#!/bin/sh
# Creates triggerbot's topics (SPEC section 5; schemas/.../Topics.java) on the local single-node Kafka of
# docker-compose.yml. Run by its kafka-init service with the apache/kafka image's kafka-topics.sh; safe to run
# again (--if-not-exists). Kafka Streams creates the processor's internal topics and the trigger-sink creates its
# journal (trigger.sink-journal, compacted) itself.
#
# KAFKA_TOPICS and BOOTSTRAP_SERVERS override the tool and the broker (e.g. to try the script without Docker).
set -eu

topics="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"
bootstrap="${BOOTSTRAP_SERVERS:-kafka:19092}"

create() {
  name="$1"; shift
  echo "kafka-init: topic $name $*"
  "$topics" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$name" --replication-factor 1 "$@"
}

# One partition: a push's messages must keep their order (README, "Running the processor"). Kept 30 days so
# that a replay can read it again (SPEC section 5).
create pulse.raw         --partitions 1 --config retention.ms=2592000000
create pulse.rejected    --partitions 1
create trigger.decisions --partitions 1
create trigger.commands  --partitions 1
create trigger.results   --partitions 1
# The latest verdict per push: compacted.
create push.verdicts     --partitions 1 --config cleanup.policy=compact

# --if-not-exists keeps a topic created earlier as it is: make sure pulse.raw still has one partition.
description="$("$topics" --bootstrap-server "$bootstrap" --describe --topic pulse.raw)"
echo "$description" | head -n 1
if ! echo "$description" | grep -Eq 'PartitionCount:[[:space:]]*1([^0-9]|$)'; then
  echo "kafka-init: pulse.raw must have exactly 1 partition (a push's messages must keep their order)" >&2
  exit 1
fi
echo "kafka-init: topics ready"
