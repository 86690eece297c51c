package org.triggerbot.processor.whatif;

import java.time.Instant;

/**
 * What a what-if read, for its report.
 *
 * @param source the file or topic, as given
 * @param inputs lines (or records) read
 * @param bytes bytes read
 * @param rejected inputs rejected as the processor would reject them
 * @param firstEvent the earliest event time of an input, or null when none had one
 * @param lastEvent the latest event time of an input, or null when none had one
 */
public record InputSummary(String source, long inputs, long bytes, long rejected, Instant firstEvent,
    Instant lastEvent) {}
