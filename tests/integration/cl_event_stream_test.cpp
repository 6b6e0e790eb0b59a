// CL event streams through the real vixy binary leave a node that stays connected but stops being
// healthy: the client's stream ends, and the reconnect lands on the healthy node. Listeners for
// the same topics share one stream from the node.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "support/harness.hpp"
#include "support/ws_rpc.hpp"

namespace vixy::testing {
namespace {

using chaos::Cluster;
using chaos::ClusterOptions;
using nlohmann::json;
using std::chrono::seconds;

constexpr const char* kEvents = "/cl/eth/v1/events?topics=head";

bool both_healthy(Cluster& cluster) {
  return cluster.wait_for_status(
      [](const json& s) {
        return Cluster::find_node(s, "cl-a").value("is_healthy", false) &&
               Cluster::find_node(s, "cl-b").value("is_healthy", false);
      },
      seconds(10));
}

// The fake node's own count of open event streams (what it serves, whoever asked).
std::size_t streams_on(Cluster& cluster, const std::string& node) {
  auto state = parse_body(cluster.admin(node, "/state"));
  if (!state.is_object() || !state.contains("state")) return SIZE_MAX;
  return state["state"].value("subscriptions", SIZE_MAX);
}

// Reads events until the stream ends; false when it is still open at the deadline.
bool ends_within(chaos::SseReader& reader, std::chrono::milliseconds timeout) {
  return chaos::wait_until(
      [&] {
        reader.next(std::chrono::milliseconds(100));
        return reader.closed();
      },
      timeout);
}

ClusterOptions two_beacon_nodes() {
  ClusterOptions options;
  options.cl_nodes = {"cl-a", "cl-b"};
  options.block_time_ms = 100;
  options.global_toml = "max_cl_lag_slots = 3\n";
  return options;
}

// Opens a stream through vixy, waits for a head event, and checks which fake node serves it.
void open_on(Cluster& cluster, chaos::SseReader& reader, const std::string& serving, const std::string& idle) {
  ASSERT_FALSE(reader.open("127.0.0.1", cluster.proxy_port(), kEvents, seconds(5)));
  ASSERT_EQ(reader.status(), 200);
  ASSERT_TRUE(reader.next(seconds(5)).has_value()) << "no head event";
  EXPECT_TRUE(chaos::wait_until([&] { return streams_on(cluster, serving) == 1; }, seconds(5)));
  EXPECT_EQ(streams_on(cluster, idle), 0u);
}

// After a fault on cl-a: its stream ends, vixy counts it and lets go of its own stream from cl-a,
// and a new stream through vixy is served by cl-b.
void expect_stream_moved_to_cl_b(Cluster& cluster, chaos::SseReader& first, const std::string& fault) {
  EXPECT_TRUE(ends_within(first, seconds(15))) << "the stream from the " << fault << " node was never ended";
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_streams_moved_total{node="cl-a"})"), 1);
  EXPECT_TRUE(chaos::wait_until([&] { return streams_on(cluster, "cl-a") == 0; }, seconds(5)));
  chaos::SseReader second;
  open_on(cluster, second, "cl-b", "cl-a");
  auto event = second.next(seconds(5));
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->event, "head");
}

// A stalled node (no new blocks, connection kept) falls behind, turns unhealthy, and loses its
// listeners to the node that is still producing.
TEST(ClEventStream, StalledNodeLosesItsStreamsToTheHealthyNode) {
  Cluster cluster(binaries(), two_beacon_nodes());
  ASSERT_TRUE(both_healthy(cluster));
  chaos::SseReader first;
  open_on(cluster, first, "cl-a", "cl-b");
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_streams_moved_total{node="cl-a"})"), 0);

  ASSERT_EQ(cluster.admin("cl-a", "/pause").status, 200);
  expect_stream_moved_to_cl_b(cluster, first, "stalled");
  auto status = cluster.status();
  EXPECT_FALSE(Cluster::find_node(status, "cl-a").value("is_healthy", true)) << status.dump();
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_streams_moved_total{node="cl-b"})"), 0);
  EXPECT_TRUE(chaos::wait_until(
      [&] {
        auto log = cluster.proxy().log();
        auto at = log.find("cl event streams ended");
        return at != std::string::npos && log.find("node=cl-a", at) < log.find('\n', at);
      },
      seconds(5)))
      << "no log line naming the node";
}

// The same over https: ending the stream cancels a read inside the TLS layer.
TEST(ClEventStream, StalledNodeOverTlsLosesItsStreams) {
  ClusterOptions options = two_beacon_nodes();
  options.tls = true;
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(both_healthy(cluster));
  chaos::SseReader first;
  open_on(cluster, first, "cl-a", "cl-b");
  ASSERT_EQ(cluster.admin("cl-a", "/pause").status, 200);
  expect_stream_moved_to_cl_b(cluster, first, "stalled");
}

// A node that reports syncing keeps sending events, but is not routable: its streams move too.
TEST(ClEventStream, SyncingNodeLosesItsStreamsAlthoughEventsStillFlow) {
  Cluster cluster(binaries(), two_beacon_nodes());
  ASSERT_TRUE(both_healthy(cluster));
  chaos::SseReader first;
  open_on(cluster, first, "cl-a", "cl-b");

  ASSERT_EQ(cluster.admin("cl-a", "/syncing", R"({"syncing":true})").status, 200);
  expect_stream_moved_to_cl_b(cluster, first, "syncing");
}

// Streams on a node that stays healthy are left alone when another node fails.
TEST(ClEventStream, StreamsOnAHealthyNodeStayWhenAnotherNodeFails) {
  Cluster cluster(binaries(), two_beacon_nodes());
  ASSERT_TRUE(both_healthy(cluster));
  chaos::SseReader reader;
  open_on(cluster, reader, "cl-a", "cl-b");
  ASSERT_EQ(cluster.admin("cl-b", "/syncing", R"({"syncing":true})").status, 200);
  ASSERT_TRUE(cluster.wait_for_status(
      [](const json& s) { return !Cluster::find_node(s, "cl-b").value("is_healthy", true); }, seconds(10)));
  // Events keep coming on the same stream after vixy has seen cl-b fail.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(reader.next(seconds(5)).has_value()) << "event " << i;
  EXPECT_FALSE(reader.closed());
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_streams_moved_total{node="cl-a"})"), 0);
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_streams_moved_total{node="cl-b"})"), 0);
}


// Listeners asking for the same topics (in any order or spelling of the list) share one stream
// from the node and get the same events; another topic set gets a stream of its own; the node's
// streams close once their last listener has gone.
TEST(ClEventStream, ListenersForTheSameTopicsShareOneNodeStream) {
  // Streams are shared per vixy thread: with one, every listener is on it.
  ClusterOptions options = two_beacon_nodes();
  options.extra_toml = "[server]\nthreads = 1\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(both_healthy(cluster));
  const char* spellings[] = {"/cl/eth/v1/events?topics=head,block", "/cl/eth/v1/events?topics=block,head",
                             "/cl/eth/v1/events?topics=head&topics=block,head"};
  std::vector<std::unique_ptr<chaos::SseReader>> readers;
  for (int i = 0; i < 6; ++i) {
    readers.push_back(std::make_unique<chaos::SseReader>());
    ASSERT_FALSE(readers.back()->open("127.0.0.1", cluster.proxy_port(), spellings[i % 3], seconds(5)));
    ASSERT_EQ(readers.back()->status(), 200);
    EXPECT_EQ(readers.back()->content_type().rfind("text/event-stream", 0), 0u) << readers.back()->content_type();
  }
  // The event every reader gets after the last one joined is the same one, under the same name.
  auto last = readers.back()->next(seconds(5));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->event, "head");
  for (std::size_t i = 0; i + 1 < readers.size(); ++i) {
    bool seen = false;
    for (int k = 0; k < 50 && !seen; ++k) {
      auto event = readers[i]->next(seconds(5));
      ASSERT_TRUE(event.has_value()) << "reader " << i << " got no event";
      seen = event->event == last->event && event->data == last->data;
    }
    EXPECT_TRUE(seen) << "reader " << i << " never got the event the last reader got";
  }
  EXPECT_TRUE(chaos::wait_until([&] { return streams_on(cluster, "cl-a") == 1; }, seconds(5)))
      << streams_on(cluster, "cl-a") << " streams on cl-a for six listeners of one topic set";
  EXPECT_EQ(streams_on(cluster, "cl-b"), 0u);
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_event_upstreams{node="cl-a"})"), 1);
  EXPECT_EQ(proxy_metric(cluster, "vixy_cl_event_listeners"), 6);

  chaos::SseReader other;
  ASSERT_FALSE(other.open("127.0.0.1", cluster.proxy_port(), kEvents, seconds(5)));
  ASSERT_EQ(other.status(), 200);
  ASSERT_TRUE(other.next(seconds(5)).has_value());
  EXPECT_TRUE(chaos::wait_until([&] { return streams_on(cluster, "cl-a") == 2; }, seconds(5)));

  // The listeners go; vixy notices at its next write to each (a head every 100 ms here).
  readers.clear();
  EXPECT_TRUE(chaos::wait_until([&] { return proxy_metric(cluster, "vixy_cl_event_listeners") == 1; }, seconds(10)));
  EXPECT_TRUE(chaos::wait_until([&] { return streams_on(cluster, "cl-a") == 1; }, seconds(5)))
      << "the node still serves the stream nobody listens to";
  ASSERT_TRUE(other.next(seconds(5)).has_value()) << "the other topic set's listener lost its stream";
}

// A node's refusal (an unknown topic) reaches the client as the node gave it, and no stream stays.
TEST(ClEventStream, ANodesRefusalIsPassedOn) {
  Cluster cluster(binaries(), two_beacon_nodes());
  ASSERT_TRUE(both_healthy(cluster));
  chaos::SseReader reader;
  ASSERT_FALSE(reader.open("127.0.0.1", cluster.proxy_port(), "/cl/eth/v1/events?topics=no_such_topic", seconds(5)));
  EXPECT_EQ(reader.status(), 400);
  EXPECT_EQ(streams_on(cluster, "cl-a"), 0u);
  EXPECT_EQ(proxy_metric(cluster, R"(vixy_cl_event_upstreams{node="cl-a"})"), 0);
}


// SIGTERM with event streams open, one shared and one relayed on its own: both end cleanly at once
// (not cut at the shutdown deadline, 20 s here), and vixy exits 0 with nothing left to tear down.
TEST(ClEventStream, StreamsEndCleanlyOnShutdownAndVixyExitsZero) {
  ClusterOptions options = two_beacon_nodes();
  options.extra_toml = "[server]\nshutdown_timeout_ms = 20000\n";
  Cluster cluster(binaries(), options);
  ASSERT_TRUE(both_healthy(cluster));
  chaos::SseReader shared;
  chaos::SseReader relayed;
  ASSERT_FALSE(shared.open("127.0.0.1", cluster.proxy_port(), kEvents, seconds(5)));
  ASSERT_FALSE(relayed.open("127.0.0.1", cluster.proxy_port(), "/cl/eth/v1/events?topics=head&x=1", seconds(5)));
  ASSERT_EQ(shared.status(), 200);
  ASSERT_EQ(relayed.status(), 200);
  ASSERT_TRUE(shared.next(seconds(5)).has_value());
  ASSERT_TRUE(relayed.next(seconds(5)).has_value());

  EXPECT_EQ(cluster.proxy().terminate(std::chrono::seconds(10)), 0) << cluster.proxy().log();
  EXPECT_TRUE(ends_within(shared, seconds(5)));
  EXPECT_TRUE(ends_within(relayed, seconds(5)));
}

}  // namespace
}  // namespace vixy::testing
