package org.triggerbot.processor.query;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.HostInfo;
import org.triggerbot.processor.topology.StoreNames;
import org.triggerbot.schemas.Topics;

/**
 * Push state from whichever processor instance holds it (Kafka Streams interactive queries), as {@link Answer}s.
 *
 * <p>One push: the metadata of its key names the instance whose active task owns it; this instance reads its
 * own stores when that is itself, else asks the owner over HTTP (its {@code application.server}, which is its
 * admin port) with the {@value #FORWARDED_BY} header, and returns what the owner answered. A forwarded request
 * is never forwarded again: an instance that is asked by another but is not the owner in its own view answers
 * 503, since ownership is moving and the next try will find the new owner.
 *
 * <p>The list: every instance that owns partitions of the push state is asked for its part (its newest
 * {@code limit} pushes and the partitions they come from; this instance reads its own directly); the parts are
 * merged, sorted and cut to {@code limit}. The answer is complete or it is a 503: should the answered partitions
 * not cover every partition (a rebalance between the metadata and the answers), nothing is returned.
 *
 * <p>Never a wrong or partial answer: only when this instance is {@code RUNNING}, only active stores (never a
 * standby or a restoring task), and any {@link InvalidStateStoreException} (state restoring or migrating) becomes
 * 503. An owner that does not answer within {@link #CONNECT_TIMEOUT} + {@link #REQUEST_TIMEOUT} is a 502.
 * Thread-safe; each call blocks its caller for at most about those timeouts.
 */
public final class PushQueries {

  /**
   * Marks a request one instance sends another, with the sender's {@code host:port}: a forwarded push query is
   * never forwarded again, and a forwarded list query answers this instance's part only.
   */
  public static final String FORWARDED_BY = "X-Triggerbot-Forwarded-By";
  /** Instances of one application are on one network: a connection that takes longer will not come. */
  static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
  /** A push or a list part is read from a local store in milliseconds; seconds mean the owner is in trouble. */
  static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(5);

  private static final StringSerializer KEYS = new StringSerializer();

  private final KafkaStreams streams;
  private final HostInfo self;
  private final String sourceTopic;
  private final int partitions;
  private final LocalStores local;
  private final HttpClient http;
  private final ObjectMapper json;

  /**
   * @param streams the processor's Kafka Streams, configured with {@code application.server} = {@code self}
   * @param self this instance's {@code application.server}: where the others reach its admin port
   * @param partitions the number of partitions of the push state: those of {@code pulse.raw}, the source
   */
  public PushQueries(KafkaStreams streams, HostInfo self, int partitions) {
    this.streams = streams;
    this.self = self;
    this.sourceTopic = Topics.PULSE_RAW.name();
    this.partitions = partitions;
    this.local = new LocalStores(streams);
    this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(CONNECT_TIMEOUT)
        .followRedirects(HttpClient.Redirect.NEVER).build();
    this.json = Json.MAPPER.copy().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
  }

  /** This instance's {@code host:port} as the others know it. */
  public HostInfo self() {
    return self;
  }

  /**
   * One push, from its owner.
   *
   * @param forwardedBy the {@value #FORWARDED_BY} header of the request, when another instance sent it
   */
  public Answer<PushView> push(PushRef ref, Optional<String> forwardedBy) throws InterruptedException {
    Answer<PushView> notRunning = unlessRunning();
    if (notRunning != null) {
      return notRunning;
    }
    KeyQueryMetadata owner;
    try {
      owner = streams.queryMetadataForKey(StoreNames.PUSHES, ref.key(), KEYS);
    } catch (IllegalStateException | InvalidStateStoreException e) {
      // Thrown when the client stopped running between the check above and here.
      return unavailable("the processor is not running");
    }
    if (owner == null || KeyQueryMetadata.NOT_AVAILABLE.equals(owner) || owner.activeHost() == null
        || HostInfo.unavailable().equals(owner.activeHost())) {
      return unavailable("no instance owns push " + ref + " right now: partitions are being assigned");
    }
    if (self.equals(owner.activeHost())) {
      try {
        return local.push(ref, owner.partition()).<Answer<PushView>>map(Answer.Found::new)
            .orElseGet(() -> new Answer.NotFound<>(notFound(ref)));
      } catch (InvalidStateStoreException e) {
        return unavailable("the state of push " + ref + " is being restored or moved on this instance");
      }
    }
    if (forwardedBy.isPresent()) {
      return unavailable("push " + ref + " is moving between instances: " + forwardedBy.get()
          + " asked this instance, whose metadata names " + hostPort(owner.activeHost()) + " as its owner");
    }
    HttpRequest request = forward(owner.activeHost(), "/api/pushes/" + ref.path());
    try {
      HttpResponse<byte[]> response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
      return relay(owner.activeHost(), response, PushView.class);
    } catch (IOException e) {
      return unreachable(owner.activeHost(), "push " + ref, e);
    }
  }

  /** The list of recent pushes, from every instance's part. */
  public Answer<PushList> recent(ListQuery query) throws InterruptedException {
    Answer<PushList> notRunning = unlessRunning();
    if (notRunning != null) {
      return notRunning;
    }
    Map<HostInfo, CompletableFuture<Answer<LocalPart>>> asked = new LinkedHashMap<>();
    for (StreamsMetadata client : streams.metadataForAllStreamsClients()) {
      boolean ownsPushes = client.topicPartitions().stream().anyMatch(tp -> tp.topic().equals(sourceTopic));
      if (!ownsPushes) {
        continue;
      }
      if (self.equals(client.hostInfo())) {
        asked.put(self, CompletableFuture.completedFuture(localPart(query)));
      } else {
        String path = "/api/pushes" + (query.toQueryString().isEmpty() ? "" : "?" + query.toQueryString());
        asked.put(client.hostInfo(), http.sendAsync(forward(client.hostInfo(), path),
            HttpResponse.BodyHandlers.ofByteArray())
            .handle((response, failure) -> failure == null ? relay(client.hostInfo(), response, LocalPart.class)
                : unreachable(client.hostInfo(), "its part of the list", failure)));
      }
    }
    Set<Integer> answered = new TreeSet<>();
    List<PushSummary> all = new ArrayList<>();
    for (CompletableFuture<Answer<LocalPart>> part : asked.values()) {
      Answer<LocalPart> answer;
      try {
        answer = part.get(); // each is bounded by the request timeout
      } catch (ExecutionException e) {
        throw new IllegalStateException("a part of the list failed unexpectedly", e.getCause());
      }
      if (answer instanceof Answer.Found<LocalPart> found) {
        answered.addAll(found.value().partitions());
        all.addAll(found.value().pushes());
      } else {
        return retyped(answer);
      }
    }
    Set<Integer> missing = new TreeSet<>();
    for (int p = 0; p < partitions; p++) {
      if (!answered.contains(p)) {
        missing.add(p);
      }
    }
    if (!missing.isEmpty()) {
      return unavailable("no running instance answered for partition(s) " + missing
          + " of the push state: partitions are being assigned");
    }
    return new Answer.Found<>(new PushList(query.state() == null ? null : query.state().name(), query.limit(),
        PushViews.newest(all, query.limit())));
  }

  /**
   * This instance's part of the list: its newest {@code query.limit()} listed pushes from every partition of
   * the push state it owns as active, and which partitions those are. What another instance asks for with
   * {@value #FORWARDED_BY}.
   */
  public Answer<LocalPart> localPart(ListQuery query) {
    Answer<LocalPart> notRunning = unlessRunning();
    if (notRunning != null) {
      return notRunning;
    }
    Set<Integer> owned = new TreeSet<>();
    for (ThreadMetadata thread : streams.metadataForLocalThreads()) {
      for (TaskMetadata task : thread.activeTasks()) {
        for (TopicPartition tp : task.topicPartitions()) {
          if (tp.topic().equals(sourceTopic)) {
            owned.add(tp.partition());
          }
        }
      }
    }
    List<PushSummary> pushes = new ArrayList<>();
    try {
      for (int partition : owned) {
        pushes.addAll(local.recent(query, partition));
      }
    } catch (InvalidStateStoreException e) {
      return unavailable("the push state of partition(s) " + owned + " is being restored or moved on this instance");
    }
    return new Answer.Found<>(new LocalPart(List.copyOf(owned), PushViews.newest(pushes, query.limit())));
  }

  /**
   * One instance's part of the list, as it travels between instances.
   *
   * @param partitions the partitions of the push state it read
   * @param pushes its newest listed pushes from them, at most the limit asked for
   */
  public record LocalPart(List<Integer> partitions, List<PushSummary> pushes) {}

  // --- helpers -----------------------------------------------------------------------------------------------

  private <T> Answer<T> unlessRunning() {
    KafkaStreams.State state = streams.state();
    if (state == KafkaStreams.State.RUNNING) {
      return null;
    }
    return new Answer.Unavailable<>(switch (state) {
      case CREATED -> "the processor is starting";
      case REBALANCING -> "the processor is rebalancing: partitions are being assigned or state restored";
      default -> "the processor is stopping or stopped";
    }, state.name());
  }

  private <T> Answer<T> unavailable(String message) {
    return new Answer.Unavailable<>(message, streams.state().name());
  }

  private static String notFound(PushRef ref) {
    return "no push " + ref + ": not seen on an enabled branch, or forgotten after push.ttl";
  }

  private HttpRequest forward(HostInfo owner, String pathAndQuery) {
    return HttpRequest.newBuilder(URI.create("http://" + hostPort(owner) + pathAndQuery))
        .timeout(REQUEST_TIMEOUT)
        .header(FORWARDED_BY, hostPort(self))
        .header("Accept", "application/json")
        .GET().build();
  }

  /** What the owner answered, as the same kind of answer; anything unexpected is a 502 naming the owner. */
  private <T> Answer<T> relay(HostInfo owner, HttpResponse<byte[]> response, Class<T> type) {
    int status = response.statusCode();
    try {
      if (status == 200) {
        return new Answer.Found<>(json.readValue(response.body(), type));
      }
      if (status == 404 || status == 503) {
        JsonNode body = json.readTree(response.body());
        String error = body.path("error").asText("(no message)");
        return status == 404 ? new Answer.NotFound<>(error)
            : new Answer.Unavailable<>("the owner, " + hostPort(owner) + ", cannot answer now: " + error,
                body.path("state").asText(null));
      }
    } catch (IOException e) {
      return new Answer.Unreachable<>("the owner, " + hostPort(owner) + ", answered HTTP " + status
          + " with a body that is not the expected JSON", hostPort(owner));
    }
    return new Answer.Unreachable<>("the owner, " + hostPort(owner) + ", answered HTTP " + status, hostPort(owner));
  }

  private static <T> Answer<T> unreachable(HostInfo owner, String what, Throwable failure) {
    Throwable cause = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
        ? failure.getCause() : failure;
    // The exception's class says what happened (refused, timed out); its message may carry nothing more useful.
    return new Answer.Unreachable<>("the instance that holds " + what + ", " + hostPort(owner)
        + ", did not answer: " + cause.getClass().getSimpleName(), hostPort(owner));
  }

  // Only the kinds without a value reach here, and they carry nothing of T: the cast cannot be wrong.
  @SuppressWarnings("unchecked")
  private static <T> Answer<T> retyped(Answer<?> answer) {
    return (Answer<T>) answer;
  }

  /** {@code host:port}, with an IPv6 literal in brackets as a URL needs it. */
  static String hostPort(HostInfo host) {
    return (host.host().indexOf(':') >= 0 && !host.host().startsWith("[") ? "[" + host.host() + "]" : host.host())
        + ":" + host.port();
  }
}
