package org.triggerbot.testsupport;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;

/** What {@link AmqpBroker} and its implementations share: URIs, short-lived admin channels, waiting. */
final class AmqpSupport {

    /** Bounds connecting, the AMQP handshake and each RPC of the connections this package makes. */
    static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration POLL_INTERVAL = Duration.ofMillis(50);

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

    static long deadlineIn(Duration timeout) {
        return System.nanoTime() + timeout.toNanos();
    }

    static long elapsedMillis(long beginNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - beginNanos);
    }

    /**
     * Polls {@code check} until it returns true. Checked exceptions from {@code check} count as
     * "not yet" and are reported as the cause on timeout; unchecked ones propagate at once.
     *
     * @throws IllegalStateException on timeout or interruption
     */
    static void awaitCondition(String description, long deadline, Callable<Boolean> check) {
        Exception lastFailure = null;
        while (true) {
            try {
                if (check.call()) {
                    return;
                }
                lastFailure = null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for " + description, e);
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                lastFailure = e;
            }
            long remainingNanos = deadline - System.nanoTime();
            if (remainingNanos <= 0) {
                throw new IllegalStateException("Timed out waiting for " + description, lastFailure);
            }
            try {
                // Back-off between two checks of the condition; the deadline bounds the wait.
                Thread.sleep(Math.max(1, TimeUnit.NANOSECONDS.toMillis(
                        Math.min(POLL_INTERVAL.toNanos(), remainingNanos))));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("Interrupted while waiting for " + description, e);
            }
        }
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(path);
                } catch (NoSuchFileException alreadyGone) {
                    // Fine: nothing to delete.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("Could not delete " + root, e);
        }
    }
}
