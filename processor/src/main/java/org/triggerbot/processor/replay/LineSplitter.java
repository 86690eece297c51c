package org.triggerbot.processor.replay;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Splits a byte stream into lines without decoding it: a Pulse body reaches the parser as the bytes the file
 * holds, as the bridge hands the processor the bytes Pulse sent (invalid UTF-8 is the parser's to reject, not
 * silently replaced). Line ends are {@code \n}, {@code \r} or {@code \r\n}, as {@link java.io.BufferedReader}
 * reads them; a last line without an end counts.
 */
final class LineSplitter {

  private static final int BLOCK = 1 << 16;

  private final InputStream in;
  private final byte[] block = new byte[BLOCK];
  private int pos;
  private int limit;
  private boolean eof;
  private boolean skipLf; // the previous line ended with \r: a \n right after it ends nothing
  private long lineNumber;
  private long bytesRead;
  private byte[] partial = new byte[256];

  LineSplitter(InputStream in) {
    this.in = in;
  }

  /** Bytes consumed from the stream so far. */
  long bytesRead() {
    return bytesRead;
  }

  /** Up to {@code max} next lines (numbered from 1), none at the end of the stream. */
  List<Input> next(int max) throws IOException {
    List<Input> lines = new ArrayList<>(max);
    while (lines.size() < max) {
      byte[] line = readLine();
      if (line == null) {
        break;
      }
      lines.add(Input.line(++lineNumber, line));
    }
    return lines;
  }

  private byte[] readLine() throws IOException {
    int length = 0;
    while (true) {
      if (pos == limit) {
        if (eof || !fill()) {
          return length > 0 ? Arrays.copyOf(partial, length) : null;
        }
      }
      if (skipLf) {
        skipLf = false;
        if (block[pos] == '\n') {
          pos++;
          continue;
        }
      }
      int start = pos;
      while (pos < limit && block[pos] != '\n' && block[pos] != '\r') {
        pos++;
      }
      int n = pos - start;
      if (pos < limit) {
        skipLf = block[pos] == '\r';
        pos++;
        if (length == 0) {
          return Arrays.copyOfRange(block, start, start + n);
        }
        append(start, n, length);
        return Arrays.copyOf(partial, length + n);
      }
      append(start, n, length);
      length += n;
    }
  }

  private void append(int start, int n, int length) {
    if (partial.length < length + n) {
      partial = Arrays.copyOf(partial, Math.max(partial.length * 2, length + n));
    }
    System.arraycopy(block, start, partial, length, n);
  }

  private boolean fill() throws IOException {
    int n = in.read(block, 0, BLOCK);
    if (n <= 0) {
      eof = true;
      return false;
    }
    bytesRead += n;
    pos = 0;
    limit = n;
    return true;
  }
}
