// Every request method and malformed request line on vixy's own routes gets a 4xx answer: never a
// 500, never an error in the log, and vixy keeps serving.
#include <gtest/gtest.h>

#include <vector>

#include "support/harness.hpp"
#include "unit/http_server_fixture.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using std::chrono::seconds;

std::optional<RawResponse> exchange(std::uint16_t port, const std::string& bytes) {
  RawClient client;
  if (client.connect(port)) return std::nullopt;
  client.send(bytes);
  return read_response(client);
}

TEST(RequestMethods, AnyMethodOnAnyOwnRouteIsA4xxAndNoError) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  for (std::string method : {"TRACE", "CONNECT", "OPTIONS", "PUT", "PATCH", "DELETE", "FOO", "M-SEARCH", "get"}) {
    for (std::string path : {"/el", "/el/", "/el/ws", "/health", "/ready", "/status", "/metrics", "/nowhere", "*",
                             "127.0.0.1:443"}) {
      for (bool with_body : {false, true}) {
        SCOPED_TRACE(method + " " + path + (with_body ? " with a body" : ""));
        std::string request = method + " " + path + " HTTP/1.1\r\nHost: t\r\nConnection: close\r\n" +
                              (with_body ? "Content-Length: 5\r\n\r\nhello" : "\r\n");
        auto answer = exchange(cluster.proxy_port(), request);
        ASSERT_TRUE(answer);
        EXPECT_GE(answer->status, 400);
        EXPECT_LT(answer->status, 500);
      }
    }
  }
  EXPECT_EQ(cluster.proxy_get("/health").status, 200);
  auto log = cluster.proxy().log();
  EXPECT_EQ(log.find("level=error"), std::string::npos) << log;
}

TEST(RequestMethods, AMalformedRequestLineIsA400AndNoError) {
  Cluster cluster(binaries(), {});
  ASSERT_TRUE(wait_ready(cluster));
  for (const std::string& line : std::vector<std::string>{"GET\r\n\r\n", "GET /health\r\n\r\n", "GET /health HTTP/9.9\r\n\r\n",
                           "GET  /health HTTP/1.1\r\n\r\n", "GET /he alth HTTP/1.1\r\n\r\n",
                           " GET /health HTTP/1.1\r\n\r\n", "GET /health HTTP/1.1\r\nno colon\r\n\r\n",
                           std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n",
                           std::string("GET /\0health HTTP/1.1\r\n\r\n", 26)}) {
    SCOPED_TRACE(::testing::PrintToString(line));
    auto answer = exchange(cluster.proxy_port(), line);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->status, 400);
  }
  EXPECT_EQ(cluster.proxy_get("/health").status, 200);
  auto log = cluster.proxy().log();
  EXPECT_EQ(log.find("level=error"), std::string::npos) << log;
}

}  // namespace
}  // namespace vixy::testing
