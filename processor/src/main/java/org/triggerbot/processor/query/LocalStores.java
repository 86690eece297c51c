package org.triggerbot.processor.query;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushState;
import org.triggerbot.processor.topology.StoreNames;

/**
 * Reads one partition of the decide processor's stores on this instance, through Kafka Streams' interactive
 * queries, and turns what it finds into views ({@link PushViews}).
 *
 * <p>Only active, up-to-date stores: the parameters never enable stale stores, so a standby, a restoring task or
 * a partition this instance does not own makes Kafka Streams throw {@link InvalidStateStoreException}, which the
 * caller answers with 503, never with an answer that may be wrong. Each call names its partition, so it reads
 * exactly the store that the metadata said owns the push, not a union of whatever is local.
 *
 * <p>A push and its builders are read from two stores one after the other while the stream thread may be
 * writing: an answer can mix the state before and after one event (for instance J counting a builder that the
 * builder list does not show yet). The next query shows both.
 */
final class LocalStores {

  private static final StringSerializer KEYS = new StringSerializer();

  private final KafkaStreams streams;

  LocalStores(KafkaStreams streams) {
    this.streams = streams;
  }

  /**
   * The push from partition {@code partition}'s stores, with its test builders; empty when the store has no such
   * push.
   *
   * @throws InvalidStateStoreException when that partition's stores are not active and queryable here now
   */
  Optional<PushView> push(PushRef ref, int partition) {
    PushState push = pushes(partition).get(ref.key());
    if (push == null) {
      return Optional.empty();
    }
    Map<String, BuilderState> builders = new LinkedHashMap<>();
    // The revision is exactly 12 characters, so "branch/revision/" prefixes this push's builders and nothing else.
    String prefix = ref.key() + "/";
    try (KeyValueIterator<String, BuilderState> it = builders(partition).prefixScan(prefix, KEYS)) {
      while (it.hasNext()) {
        KeyValue<String, BuilderState> entry = it.next();
        builders.put(entry.key.substring(prefix.length()), entry.value);
      }
    }
    return Optional.of(PushViews.push(ref, push, builders));
  }

  /**
   * The newest {@code query.limit()} pushes of partition {@code partition} that {@code query} lists.
   *
   * @throws InvalidStateStoreException when that partition's store is not active and queryable here now
   */
  List<PushSummary> recent(ListQuery query, int partition) {
    PushViews.Newest newest = new PushViews.Newest(query.limit());
    try (KeyValueIterator<String, PushState> it = pushes(partition).all()) {
      while (it.hasNext()) {
        KeyValue<String, PushState> entry = it.next();
        if (PushViews.listed(entry.value, query)) {
          newest.offer(PushViews.summary(PushViews.refOfKey(entry.key), entry.value));
        }
      }
    }
    return newest.sorted();
  }

  private ReadOnlyKeyValueStore<String, PushState> pushes(int partition) {
    return streams.store(StoreQueryParameters.fromNameAndType(StoreNames.PUSHES,
        QueryableStoreTypes.<String, PushState>keyValueStore()).withPartition(partition));
  }

  private ReadOnlyKeyValueStore<String, BuilderState> builders(int partition) {
    return streams.store(StoreQueryParameters.fromNameAndType(StoreNames.BUILDERS,
        QueryableStoreTypes.<String, BuilderState>keyValueStore()).withPartition(partition));
  }
}
