package org.triggerbot.schemas;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * A topic's name together with the serdes of its keys and values, so that producers, the topology and tests
 * can never disagree on how a topic is encoded. Instances live in {@link Topics}.
 */
public record Topic<K, V>(String name, Serde<K> keySerde, Serde<V> valueSerde) {
  public Topic {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
  }
}
