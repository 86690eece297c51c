package org.triggerbot.processor.topology;

/**
 * A {@code pulse.raw} record of several partitions that is not keyed by its push: the push's other messages may be
 * on another partition, decided by another task on state this one cannot see, so deciding it would be wrong and
 * skipping it would lose it. Fatal: the processor stops with this message rather than decide on split state. It
 * means {@code pulse.raw} was written by a bridge from before SPEC 5 keyed it by push (keyed by routing key), or
 * by some other producer.
 */
public final class MisroutedRecordException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  MisroutedRecordException(String where, String key, String pushKey, int partitions) {
    super("pulse.raw record " + where + " is keyed \"" + key + "\" but belongs to push \"" + pushKey + "\": with "
        + partitions + " partitions every record must be keyed by its push (branch/revision, SPEC 5), or a push's "
        + "messages are decided apart. It was written by a bridge older than this processor, or by another "
        + "producer; see the README, \"Partitions and scale-out\", for the one-time migration.", null, false, false);
  }
}
