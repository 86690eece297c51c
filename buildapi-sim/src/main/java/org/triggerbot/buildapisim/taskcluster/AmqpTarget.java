package org.triggerbot.buildapisim.taskcluster;

import com.rabbitmq.client.ConnectionFactory;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.GeneralSecurityException;
import java.util.Objects;

/**
 * The AMQP 0-9-1 broker a {@link TaskclusterSimulator} publishes its Pulse messages to, and how it picks routing
 * keys. {@link #toString()} leaves the password out.
 *
 * @param host broker host
 * @param port AMQP port (no TLS)
 * @param virtualHost the virtual host, as clients send it (not percent-encoded)
 * @param username user
 * @param password password; never logged
 * @param routingKeys see {@link RoutingKeys}
 */
public record AmqpTarget(String host, int port, String virtualHost, String username, String password,
    RoutingKeys routingKeys) {

  /**
   * Which key a message is published with; the others go in its {@code CC} header (RabbitMQ's sender-selected
   * distribution, which Pulse is and Taskcluster uses). Binding a queue to {@code route.tc-treeherder.v2.<branch>.#}
   * works with {@link #ROUTE_FIRST} on every broker, and with {@link #PRIMARY} on RabbitMQ only.
   */
  public enum RoutingKeys {
    /**
     * The default: the routing key is the first {@code route.tc-treeherder.v2...} route (the primary key when the
     * task has none), and the primary key and the other routes are CC'd. A broker without CC support (Qpid
     * Broker-J) then still routes on the treeherder route; on RabbitMQ every binding matches exactly as with
     * {@link #PRIMARY}. Only the delivery's own routing key differs from Taskcluster's.
     */
    ROUTE_FIRST,
    /** Taskcluster's exact form: the routing key is the primary key and every route is CC'd. */
    PRIMARY
  }

  public AmqpTarget {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(virtualHost, "virtualHost");
    Objects.requireNonNull(username, "username");
    Objects.requireNonNull(password, "password");
    Objects.requireNonNull(routingKeys, "routingKeys");
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port must be 1-65535, got " + port);
    }
  }

  /** A target with {@link RoutingKeys#ROUTE_FIRST}. */
  public static AmqpTarget of(String host, int port, String virtualHost, String username, String password) {
    return new AmqpTarget(host, port, virtualHost, username, password, RoutingKeys.ROUTE_FIRST);
  }

  /**
   * A target from {@code amqp://user:password@host:port/vhost} (user, password and vhost percent-encoded), with
   * {@link RoutingKeys#ROUTE_FIRST}.
   *
   * @throws IllegalArgumentException if it is not a usable {@code amqp://} URI (the message leaves the URI out: it
   *     holds a password)
   */
  // The cause is left out on purpose: a URISyntaxException's message and input hold the whole URI, password included.
  @SuppressWarnings("UnusedException")
  public static AmqpTarget fromUri(String uri) {
    Objects.requireNonNull(uri, "uri");
    if (!uri.regionMatches(true, 0, "amqp://", 0, 7)) {
      throw new IllegalArgumentException("Only amqp:// URIs are supported");
    }
    ConnectionFactory parsed = new ConnectionFactory();
    try {
      if (new URI(uri).getHost() == null) {
        // java.net.URI falls back to a registry-based authority (no host) for e.g. a port that is not a number.
        throw new IllegalArgumentException("no host");
      }
      parsed.setUri(uri);
    } catch (URISyntaxException | GeneralSecurityException | IllegalArgumentException e) {
      throw new IllegalArgumentException("Not a usable amqp:// URI (" + e.getClass().getSimpleName() + ")");
    }
    return of(parsed.getHost(), parsed.getPort(), parsed.getVirtualHost(), parsed.getUsername(),
        parsed.getPassword());
  }

  /** This target with another routing key choice. */
  public AmqpTarget withRoutingKeys(RoutingKeys keys) {
    return new AmqpTarget(host, port, virtualHost, username, password, keys);
  }

  @Override
  public String toString() {
    return "AmqpTarget[amqp://" + username + "@" + host + ":" + port + "/" + virtualHost + ", " + routingKeys + "]";
  }
}
