package org.triggerbot.buildapisim.taskcluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.GetResponse;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.triggerbot.common.Hawk;
import org.triggerbot.testsupport.Await;

/** What the simulator's tests do as its clients: trigger a hook as the sink does, and take its Pulse messages. */
final class SimulatorCalls {

  private static final ObjectMapper JSON = new ObjectMapper();

  private SimulatorCalls() {}

  /** {@code POST uri} with {@code payload} as JSON, Hawk-signed as {@code clientId} with {@code accessToken}. */
  static HttpResponse<String> trigger(HttpClient http, URI uri, JsonNode payload, String clientId,
      String accessToken) throws IOException, InterruptedException {
    byte[] body = JSON.writeValueAsBytes(payload);
    String authorization = Hawk.header(new Hawk.Credentials(clientId, accessToken), "POST", uri, body,
        "application/json");
    return http.send(HttpRequest.newBuilder(uri)
        .header("Content-Type", "application/json")
        .header("Authorization", authorization)
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  /** Waits until {@code count} messages arrived in {@code queue} (acknowledged), at most {@code wait}. */
  static List<GetResponse> receive(Channel channel, String queue, int count, Duration wait) {
    List<GetResponse> got = new ArrayList<>();
    Await.until(count + " message(s) in " + queue, wait, () -> {
      GetResponse next = channel.basicGet(queue, true);
      if (next != null) {
        got.add(next);
      }
      return got.size() >= count;
    });
    assertEquals(count, got.size());
    return got;
  }
}
