package org.triggerbot.processor.topology;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongPredicate;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.triggerbot.processor.decide.DecideState;
import org.triggerbot.processor.decide.Keys;
import org.triggerbot.processor.policy.GlobalWindow;
import org.triggerbot.processor.state.BuilderState;
import org.triggerbot.processor.state.PushState;

/** {@link DecideState} on the four changelogged stores of {@link StoreNames}: what a restart resumes from. */
final class StoreDecideState implements DecideState {

  private final KeyValueStore<String, PushState> pushes;
  private final KeyValueStore<String, BuilderState> builders;
  private final KeyValueStore<String, Long> seen;
  private final StoreGlobalWindow window;
  private final Consumer<String> onForget;

  /** @param onForget told of every push forgotten, before its state is deleted (for caches derived from it) */
  StoreDecideState(ProcessorContext<?, ?> context, Consumer<String> onForget) {
    this.onForget = onForget;
    this.pushes = context.getStateStore(StoreNames.PUSHES);
    this.builders = context.getStateStore(StoreNames.BUILDERS);
    this.seen = context.getStateStore(StoreNames.SEEN_EVENTS);
    this.window = new StoreGlobalWindow(context.getStateStore(StoreNames.GLOBAL_TRIGGERS));
  }

  KeyValueStore<String, BuilderState> builders() {
    return builders;
  }

  @Override
  public PushState push(String pushKey) {
    return pushes.get(pushKey);
  }

  @Override
  public void putPush(String pushKey, PushState push) {
    pushes.put(pushKey, push);
  }

  @Override
  public BuilderState builder(String pushKey, String builder) {
    return builders.get(Keys.under(pushKey, builder));
  }

  @Override
  public void putBuilder(String pushKey, String builder, BuilderState state) {
    builders.put(Keys.under(pushKey, builder), state);
  }

  @Override
  public boolean seen(String pushKey, String routingKey) {
    return seen.get(Keys.under(pushKey, routingKey)) != null;
  }

  @Override
  public void markSeen(String pushKey, String routingKey, long eventTime) {
    seen.put(Keys.under(pushKey, routingKey), eventTime);
  }

  @Override
  public void forget(String pushKey) {
    onForget.accept(pushKey);
    pushes.delete(pushKey);
    deletePrefix(builders, Keys.prefix(pushKey));
    deletePrefix(seen, Keys.prefix(pushKey));
  }

  @Override
  public List<String> pushesLastSeen(LongPredicate lastSeen) {
    List<String> found = new ArrayList<>();
    try (KeyValueIterator<String, PushState> it = pushes.all()) {
      while (it.hasNext()) {
        KeyValue<String, PushState> kv = it.next();
        if (lastSeen.test(kv.value.getLastSeen())) {
          found.add(kv.key);
        }
      }
    }
    return found;
  }

  @Override
  public GlobalWindow window() {
    return window;
  }

  @Override
  public void purgeWindowBefore(long before) {
    window.purgeBefore(before);
  }

  private static <V> void deletePrefix(KeyValueStore<String, V> store, String prefix) {
    List<String> keys = new ArrayList<>();
    try (KeyValueIterator<String, V> it = store.prefixScan(prefix, new StringSerializer())) {
      while (it.hasNext()) {
        keys.add(it.next().key);
      }
    }
    keys.forEach(store::delete);
  }
}
