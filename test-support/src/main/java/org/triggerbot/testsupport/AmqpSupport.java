package org.triggerbot.testsupport;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeoutException;

/** What {@link AmqpBroker} and its implementations share: URIs, short-lived admin channels, waiting. */
final class AmqpSupport {

  /** Bounds connecting, the AMQP handshake and each RPC of the connections this package makes. */
  static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);

  private AmqpSupport() {
  }

  /** A client call on a channel; any client I/O error propagates. */
  @FunctionalInterface
  interface ChannelCall<T> {
    T call(Channel channel) throws IOException;
  }

  static ConnectionFactory connectionFactory(AmqpBroker broker) {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(broker.host());
    factory.setPort(broker.port());
    factory.setVirtualHost(broker.virtualHost());
    factory.setUsername(broker.username());
    factory.setPassword(broker.password());
    int timeoutMillis = (int) CLIENT_TIMEOUT.toMillis();
    factory.setConnectionTimeout(timeoutMillis);
    factory.setHandshakeTimeout(timeoutMillis);
    factory.setChannelRpcTimeout(timeoutMillis);
    return factory;
  }

  /**
   * Runs {@code call} on a channel of a new connection that is closed afterwards. The
   * connection does not recover, so a failure surfaces here at once, as an
   * IllegalStateException naming {@code action}, the broker and the broker's reply.
   */
  static <T> T withChannel(AmqpBroker broker, String action, ChannelCall<T> call) {
    ConnectionFactory factory = connectionFactory(broker);
    factory.setAutomaticRecoveryEnabled(false);
    factory.setTopologyRecoveryEnabled(false);
    try (Connection connection = factory.newConnection("amqp-broker-admin");
         Channel channel = connection.createChannel()) {
      return call.call(channel);
    } catch (IOException | TimeoutException | ShutdownSignalException e) {
      throw new IllegalStateException("Could not " + action + " on " + broker.name() + ": " + describe(e), e);
    }
  }

  /** The broker's reply code and text if {@code failure} is a broker-initiated close, else its message. */
  static String describe(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ShutdownSignalException signal) {
        Object reason = signal.getReason();
        if (reason instanceof AMQP.Channel.Close close) {
          return close.getReplyCode() + " " + close.getReplyText();
        }
        if (reason instanceof AMQP.Connection.Close close) {
          return close.getReplyCode() + " " + close.getReplyText();
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return String.valueOf(failure);
  }

  static String uri(String username, String password, String host, int port, String virtualHost) {
    String hostPart = host.contains(":") ? "[" + host + "]" : host;
    return "amqp://" + percentEncode(username) + ":" + percentEncode(password) + "@" + hostPart + ":" + port
        + "/" + percentEncode(virtualHost);
  }

  /**
   * Percent-encodes every byte of the UTF-8 form except RFC 3986's unreserved characters, so
   * that {@code /} in a virtual host becomes {@code %2F} (URLEncoder would also turn a space
   * into {@code +}, which URIs do not decode).
   */
  static String percentEncode(String value) {
    StringBuilder encoded = new StringBuilder();
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xff);
      if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')
          || c == '-' || c == '.' || c == '_' || c == '~') {
        encoded.append(c);
      } else {
        encoded.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xf, 16)))
            .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
      }
    }
    return encoded.toString();
  }

}
