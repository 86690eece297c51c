package org.triggerbot.buildapisim;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Iterator;

/** What the simulators' command lines share: reading option values, ports, durations and secret files. */
public final class SimCli {

  private SimCli() {}

  /** Bad arguments or input files; the message is for the user and never holds a secret. */
  public static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
      super(message);
    }
  }

  /** The value after {@code option}. */
  public static String value(String option, Iterator<String> it) throws UsageException {
    if (!it.hasNext()) {
      throw new UsageException(option + " needs a value");
    }
    return it.next();
  }

  /** A port, 0 (any free one) to 65535, for {@code --port}. */
  public static int parsePort(String value) throws UsageException {
    try {
      int port = Integer.parseInt(value);
      if (port < 0 || port > 65_535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new UsageException("--port must be 0-65535, got '" + value + "'");
    }
  }

  /** A non-negative ISO-8601 duration for {@code option}; {@code example} shows one in the message. */
  public static Duration parseDuration(String option, String value, String example) throws UsageException {
    try {
      Duration duration = Duration.parse(value);
      if (duration.isNegative()) {
        throw new UsageException(option + " must not be negative, got '" + value + "'");
      }
      return duration;
    } catch (DateTimeParseException e) {
      throw new UsageException(option + " must be an ISO-8601 duration such as " + example + ", got '" + value
          + "'");
    }
  }

  /**
   * A secret file's first line, without its line ending and surrounding blanks. Never echoes the content in a
   * message.
   *
   * @param what what the secret is, for messages ("password")
   */
  public static String readSecretLine(String option, String what, Path file) throws UsageException {
    String content;
    try {
      content = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UsageException(option + ": cannot read the " + what + " file " + file + ": " + e);
    }
    int end = content.indexOf('\n');
    String line = end < 0 ? content : content.substring(0, end);
    line = line.endsWith("\r") ? line.substring(0, line.length() - 1) : line;
    if (line.isBlank()) {
      throw new UsageException(option + ": the " + what + " file " + file + " is empty");
    }
    return line.strip();
  }
}
