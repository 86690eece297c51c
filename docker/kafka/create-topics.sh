#!/bin/sh
# Creates triggerbot's topics (SPEC section 5; schemas/.../Topics.java) on the local single-node Kafka of
# docker-compose.yml. Run by its kafka-init service with the apache/kafka image's kafka-topics.sh; safe to run
# again (--if-not-exists). Kafka Streams creates the processor's internal topics and the trigger-sink creates its
# journal (trigger.sink-journal, compacted) itself.
#
# KAFKA_TOPICS and BOOTSTRAP_SERVERS override the tool and the broker (e.g. to try the script without Docker);
# PULSE_RAW_PARTITIONS (default 1) is how many partitions pulse.raw gets: the processor runs one decision task per
# partition, so it is the most processor instances that can share the work (README, "Partitions and scale-out").
set -eu

topics="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"
bootstrap="${BOOTSTRAP_SERVERS:-kafka:19092}"
partitions="${PULSE_RAW_PARTITIONS:-1}"
case "$partitions" in
  ''|*[!0-9]*|0*) echo "kafka-init: PULSE_RAW_PARTITIONS must be a whole number from 1, not '$partitions'" >&2; exit 1 ;;
esac

create() {
  name="$1"; shift
  echo "kafka-init: topic $name $*"
  "$topics" --bootstrap-server "$bootstrap" --create --if-not-exists --topic "$name" --replication-factor 1 "$@"
}

# Keyed by push, so a push's messages keep their order however many partitions there are. Kept 30 days so that
# a replay can read it again (SPEC section 5).
create pulse.raw         --partitions "$partitions" --config retention.ms=2592000000
create pulse.rejected    --partitions 1
create trigger.decisions --partitions 1
create trigger.commands  --partitions 1
create trigger.results   --partitions 1
# The latest verdict per push: compacted.
create push.verdicts     --partitions 1 --config cleanup.policy=compact

# --if-not-exists keeps a topic created earlier as it is. Its partitions must not change under the processor:
# its state is partitioned as pulse.raw is, and a push's key would move to another partition.
description="$("$topics" --bootstrap-server "$bootstrap" --describe --topic pulse.raw)"
echo "$description" | head -n 1
if ! echo "$description" | grep -Eq "PartitionCount:[[:space:]]*${partitions}([^0-9]|\$)"; then
  echo "kafka-init: pulse.raw exists with another partition count than PULSE_RAW_PARTITIONS=$partitions; the" \
    "partitions of pulse.raw cannot change under the processor's state (README, \"Partitions and scale-out\")" >&2
  exit 1
fi
echo "kafka-init: topics ready"
