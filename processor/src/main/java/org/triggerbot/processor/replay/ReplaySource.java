package org.triggerbot.processor.replay;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;

/** What a replay reads: the lines of a file, or the records of a topic, in replay order. */
public interface ReplaySource extends Closeable {

  /** Up to {@code max} next inputs; an empty list at the end. */
  List<Input> next(int max) throws IOException;

  /** The share of the input read so far, 0 to 1, or NaN when the total is unknown (standard input). */
  double progress();

  /** The partitions of the topic read, whose records carry their partition; 0 for a file. */
  default int partitions() {
    return 0;
  }

  /** A JSON Lines stream; {@code totalBytes} (for progress) may be negative when unknown. */
  static ReplaySource lines(InputStream in, long totalBytes) {
    LineSplitter splitter = new LineSplitter(in);
    return new ReplaySource() {
      @Override
      public List<Input> next(int max) throws IOException {
        return splitter.next(max);
      }

      @Override
      public double progress() {
        return totalBytes > 0 ? Math.min(1.0, (double) splitter.bytesRead() / totalBytes) : Double.NaN;
      }

      @Override
      public void close() throws IOException {
        in.close();
      }
    };
  }
}
