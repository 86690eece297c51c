package org.triggerbot.processor.query;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.triggerbot.common.AdminServer;
import org.triggerbot.common.AdminServer.Request;
import org.triggerbot.common.AdminServer.Response;

/**
 * The routes as functions, before any Kafka: the statuses, content types and error bodies of bad requests, and
 * 503 while the processor is still starting (the routes exist before Kafka Streams does).
 */
class PushApiTest {

  private final PushApi api = new PushApi();
  private final Map<String, AdminServer.Route> routes = api.routes();

  @Test
  void mountsTheFourPaths() {
    assertEquals(List.of("/api/pushes", "/api/pushes/*", "/", "/pushes/*"), List.copyOf(routes.keySet()));
  }

  @Test
  void aMalformedRevisionIs400JsonNamingTheProblem() throws Exception {
    Response r = get("/api/pushes/*", "/api/pushes/try/NOTHEX012345");
    assertEquals(400, r.status());
    assertEquals(AdminServer.JSON_TYPE, r.contentType());
    JsonNode body = Json.MAPPER.readTree(r.body());
    assertTrue(body.get("error").asText().contains("revision 'NOTHEX012345' is malformed"), r.bodyText());
    assertTrue(body.get("error").asText().contains("^[0-9a-f]{12,40}$"), r.bodyText());
  }

  @Test
  void aBadStateOrLimitIs400JsonWithTheAllowedValues() throws Exception {
    Response state = get("/api/pushes", "/api/pushes?state=RED");
    assertEquals(400, state.status());
    JsonNode body = Json.MAPPER.readTree(state.body());
    assertEquals("[\"PENDING\",\"GREEN\",\"INTERMITTENT_ONLY\",\"FAILING\",\"UNKNOWN\"]",
        body.get("allowed").toString());
    Response limit = get("/api/pushes", "/api/pushes?limit=0");
    assertEquals(400, limit.status());
    assertTrue(Json.MAPPER.readTree(limit.body()).get("error").asText().contains("from 1 to 500"), limit.bodyText());
  }

  @Test
  void onThePagesTheSameMistakesAre400Html() throws Exception {
    Response page = get("/pushes/*", "/pushes/try/xyz");
    assertEquals(400, page.status());
    assertEquals(AdminServer.HTML_TYPE, page.contentType());
    assertTrue(page.bodyText().contains("revision &#39;xyz&#39; is malformed"), page.bodyText());
    Response index = get("/", "/?limit=9999");
    assertEquals(400, index.status());
    assertEquals(AdminServer.HTML_TYPE, index.contentType());
  }

  @Test
  void beforeKafkaStreamsExistsEveryQueryIs503WithRetryAfter() throws Exception {
    for (String[] call : new String[][] {{"/api/pushes/*", "/api/pushes/try/abcdef012345"},
        {"/api/pushes", "/api/pushes"}}) {
      Response r = get(call[0], call[1]);
      assertEquals(503, r.status(), call[1]);
      assertEquals(String.valueOf(PushApi.RETRY_AFTER_SECONDS), r.headers().get("Retry-After"));
      JsonNode body = Json.MAPPER.readTree(r.body());
      assertEquals("CREATED", body.get("state").asText());
      assertTrue(body.get("error").asText().contains("starting"), r.bodyText());
    }
    for (String[] call : new String[][] {{"/pushes/*", "/pushes/try/abcdef012345"}, {"/", "/"}}) {
      Response r = get(call[0], call[1]);
      assertEquals(503, r.status(), call[1]);
      assertEquals(AdminServer.HTML_TYPE, r.contentType());
      assertTrue(r.headers().containsKey("Retry-After"));
      assertTrue(r.bodyText().contains("starting"), r.bodyText());
    }
  }

  private Response get(String route, String pathAndQuery) throws Exception {
    return routes.get(route).handle(Request.get(pathAndQuery, Map.of()));
  }
}
