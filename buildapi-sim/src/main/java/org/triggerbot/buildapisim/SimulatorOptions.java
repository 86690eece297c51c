package org.triggerbot.buildapisim;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link BuildapiSimulator} starts.
 *
 * @param port the TCP port to listen on; {@code 0} picks a free port (see {@link BuildapiSimulator#port()})
 * @param user the one user that Basic authentication accepts; {@code null} turns authentication off
 * @param password that user's password; required when {@code user} is set, ignored otherwise
 * @param jobLag how long jobs created by rebuild POSTs stay out of GET responses (buildapi served
 *     {@code /rev/} from a cache refreshed every two minutes); {@link Duration#ZERO} for none
 *
 * <p>{@link #toString()} never shows the password.
 */
public record SimulatorOptions(int port, String user, String password, Duration jobLag) {

  /**
   * @throws IllegalArgumentException if the port is out of range, the user is blank, a user has no
   *     password, or the lag is negative
   * @throws NullPointerException if {@code jobLag} is null
   */
  public SimulatorOptions {
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0 (any free port) or 1-65535, got " + port);
    }
    if (user != null && (user.isBlank() || user.indexOf(':') >= 0)) {
      // Basic credentials are "user:password"; a colon in the user name cannot be sent.
      throw new IllegalArgumentException("user must be non-blank and contain no ':'");
    }
    if (user != null && (password == null || password.isEmpty())) {
      throw new IllegalArgumentException("a password is required when a user is set");
    }
    Objects.requireNonNull(jobLag, "jobLag");
    if (jobLag.isNegative()) {
      throw new IllegalArgumentException("jobLag must not be negative, got " + jobLag);
    }
  }

  /** Port 0 (a free port), user {@code triggerbot} with password {@code sim-password}, no job lag. */
  public static SimulatorOptions defaults() {
    return new SimulatorOptions(0, "triggerbot", "sim-password", Duration.ZERO);
  }

  /** A copy with another port. */
  public SimulatorOptions withPort(int newPort) {
    return new SimulatorOptions(newPort, user, password, jobLag);
  }

  /** A copy with these credentials ({@code null} user: no authentication). */
  public SimulatorOptions withCredentials(String newUser, String newPassword) {
    return new SimulatorOptions(port, newUser, newUser == null ? null : newPassword, jobLag);
  }

  /** A copy with another job lag. */
  public SimulatorOptions withJobLag(Duration newJobLag) {
    return new SimulatorOptions(port, user, password, newJobLag);
  }

  /** Whether Basic authentication is required. */
  public boolean authRequired() {
    return user != null;
  }

  /** Masks the password, so that logging the options never leaks it. */
  @Override
  public String toString() {
    return "SimulatorOptions[port=" + port + ", user=" + user
        + ", password=" + (password == null ? "null" : "****") + ", jobLag=" + jobLag + "]";
  }
}
