package org.triggerbot.processor.query;

/**
 * What a query came to, whichever instance answered it; the HTTP layer maps each kind to a status, in JSON or
 * HTML alike.
 *
 * @param <T> what a found answer carries
 */
public sealed interface Answer<T> {

  /** 200: the answer. */
  record Found<T>(T value) implements Answer<T> {}

  /** 404: the owner of the push has no such push. */
  record NotFound<T>(String message) implements Answer<T> {}

  /**
   * 503 with {@code Retry-After}: no instance can answer correctly right now (this one is not running, state is
   * restoring or moving, partitions are being assigned). Asking again later helps.
   *
   * @param state the Kafka Streams state of the instance that could not answer (e.g. {@code REBALANCING})
   */
  record Unavailable<T>(String message, String state) implements Answer<T> {}

  /**
   * 502: the instance that owns the data did not answer, or answered something unreadable.
   *
   * @param owner its {@code host:port}
   */
  record Unreachable<T>(String message, String owner) implements Answer<T> {}
}
