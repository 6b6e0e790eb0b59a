// HttpServer's connection caps over real sockets: eviction of the longest-idle connection, the
// overflow lane (503, or 200 for the liveness path), the per-address cap, and what it reports.
#include <gtest/gtest.h>

#include <array>
#include <memory>
#include <vector>

#include "http_server_fixture.hpp"

namespace vixy::testing {
namespace {

using namespace std::chrono_literals;
using net::Refusal;

// What the server reported through ConnectionEvents (written on its thread).
struct Reported {
  std::atomic<std::size_t> served{0};
  std::atomic<std::size_t> evicted{0};
  std::array<std::atomic<std::size_t>, 3> refused{};
};

class CappedServer {
 public:
  explicit CappedServer(net::ConnectionCaps caps) : server_(limits(caps)) {
    server_.start([&](net::HttpServer& s) {
      net::ConnectionEvents events;
      events.served_changed = [this](std::size_t n) { reported.served = n; };
      events.evicted = [this] { ++reported.evicted; };
      events.refused = [this](Refusal r) { ++reported.refused[static_cast<int>(r)]; };
      s.set_events(std::move(events));
    });
  }
  static net::ServerLimits limits(net::ConnectionCaps caps) {
    net::ServerLimits limits;
    limits.caps = caps;
    limits.always_served_path = "/health";
    limits.overflow_timeout = 2s;
    return limits;
  }

  // A connection that has answered one request and is kept alive (idle) from then on.
  std::unique_ptr<RawClient> idle_client() {
    auto client = connect();
    client->send("GET /health HTTP/1.1\r\nHost: t\r\n\r\n");
    auto answer = read_response(*client);
    if (!answer || answer->status != 200) throw std::runtime_error("no answer on a fresh connection");
    return client;
  }
  // A connection whose handler runs until release().
  std::unique_ptr<RawClient> busy_client() {
    auto before = server_.handlers_running();
    auto client = connect();
    client->send("GET /hold HTTP/1.1\r\nHost: t\r\n\r\n");
    if (!chaos::wait_until([&] { return server_.handlers_running() > before; }, 5s)) {
      throw std::runtime_error("the held request never reached its handler");
    }
    return client;
  }
  std::unique_ptr<RawClient> connect() {
    auto client = std::make_unique<RawClient>();
    if (auto ec = client->connect(server_.port())) throw std::runtime_error("connect: " + ec.message());
    return client;
  }
  std::optional<RawResponse> request(RawClient& client, const std::string& head, const std::string& body = "") {
    client.send(head + "\r\nHost: t\r\n" + (body.empty() ? "" : "Content-Length: " + std::to_string(body.size()) + "\r\n") +
                "\r\n" + body);
    return read_response(client);
  }

  ServerUnderTest server_;
  Reported reported;
};

bool ends(RawClient& client, std::chrono::milliseconds timeout = 3s) {
  auto next = client.next(timeout);
  return next == RawClient::End::eof || next == RawClient::End::reset;
}

TEST(HttpServerCaps, AtTheCapTheLongestIdleConnectionIsClosedToMakeRoom) {
  CappedServer s({3, 0, 32});
  auto a = s.idle_client();
  auto b = s.idle_client();
  auto c = s.connect();  // never sent a request: idle too, but since later than a and b
  ASSERT_TRUE(chaos::wait_until([&] { return s.reported.served == 3; }, 2s));

  auto d = s.connect();
  auto answer = s.request(*d, "GET /health HTTP/1.1");
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->status, 200);
  EXPECT_TRUE(ends(*a)) << "the longest-idle connection stayed open";
  EXPECT_EQ(b->next(200ms), RawClient::End::silence);
  EXPECT_EQ(c->next(10ms), RawClient::End::silence);
  EXPECT_EQ(s.reported.evicted, 1u);
  EXPECT_EQ(s.reported.served, 3u);

  // b is next: it has idled longer than c... and d, which answered and idles since.
  auto e = s.connect();
  ASSERT_TRUE(s.request(*e, "GET /health HTTP/1.1"));
  EXPECT_TRUE(ends(*b));
  EXPECT_EQ(s.reported.evicted, 2u);
}

TEST(HttpServerCaps, WithNoIdleConnectionTheLaneAnswers503AndStillServesHealth) {
  CappedServer s({2, 0, 32});
  auto a = s.busy_client();
  auto b = s.busy_client();

  auto c = s.connect();
  auto refused = s.request(*c, "POST /echo HTTP/1.1", R"({"jsonrpc":"2.0","id":1,"method":"eth_chainId"})");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503);
  EXPECT_EQ(refused->header("connection"), "close");
  EXPECT_NE(refused->body.find("-32005"), std::string::npos) << refused->body;
  EXPECT_NE(refused->body.find("too many connections"), std::string::npos) << refused->body;
  EXPECT_TRUE(ends(*c));

  auto probe = s.connect();
  auto health = s.request(*probe, "GET /health HTTP/1.1");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "OK");
  EXPECT_TRUE(ends(*probe));
  EXPECT_EQ(s.reported.refused[static_cast<int>(Refusal::max_connections)], 2u);

  // The held requests were never disturbed.
  s.server_.release();
  for (auto* held : {a.get(), b.get()}) {
    auto answer = read_response(*held);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->body, "held");
  }
}

TEST(HttpServerCaps, BeyondTheLaneConnectionsAreClosedAtOnce) {
  CappedServer s({1, 0, 1});
  auto a = s.busy_client();
  auto waiting = s.connect();  // takes the lane's one place and sends nothing
  ASSERT_TRUE(chaos::wait_until([&] { return s.server_.connection_count() == 2; }, 2s));

  auto started = Clock::now();
  auto c = s.connect();
  EXPECT_TRUE(ends(*c, 1s));
  EXPECT_LT(Clock::now() - started, 1s) << "closed only after the lane's timeout";
  EXPECT_EQ(s.reported.refused[static_cast<int>(Refusal::overflow)], 1u);
  // The lane's connection is closed after its own short timeout, not held.
  EXPECT_TRUE(ends(*waiting, 4s));
}

TEST(HttpServerCaps, AnAddressAtItsCapGets429) {
  CappedServer s({0, 2, 32});
  auto a = s.idle_client();
  auto b = s.idle_client();
  auto c = s.connect();
  auto refused = s.request(*c, "POST /echo HTTP/1.1", "{}");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  EXPECT_NE(refused->body.find("-32005"), std::string::npos) << refused->body;
  EXPECT_NE(refused->body.find("max_connections_per_ip"), std::string::npos) << refused->body;
  EXPECT_TRUE(ends(*c));
  EXPECT_EQ(s.reported.refused[static_cast<int>(Refusal::per_ip)], 1u);
  EXPECT_EQ(s.reported.evicted, 0u);
  // Its own connections go on.
  auto again = s.request(*a, "GET /health HTTP/1.1");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);

  // Once one of them leaves, the address is served again.
  b.reset();
  ASSERT_TRUE(chaos::wait_until([&] { return s.reported.served == 1; }, 2s));
  auto d = s.connect();
  auto served = s.request(*d, "POST /echo HTTP/1.1", "x");
  ASSERT_TRUE(served);
  EXPECT_EQ(served->status, 200);
}

TEST(HttpServerCaps, ManyIdleConnectionsNeverExceedTheCap) {
  CappedServer s({16, 0, 4});
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 200; ++i) idle.push_back(s.connect());
  auto probe = s.connect();
  auto health = s.request(*probe, "GET /health HTTP/1.1");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_LE(s.reported.served, 16u);
  EXPECT_LE(s.server_.connection_count(), 16u + 4u);
  EXPECT_GE(s.reported.evicted, 200u - 16u);
}

}  // namespace
}  // namespace vixy::testing
