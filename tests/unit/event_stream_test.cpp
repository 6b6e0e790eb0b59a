// The watch over open CL event streams: which streams a health snapshot ends, and what it counts.
#include "http/event_stream.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <vector>

namespace vixy::http {
namespace {

config::Config three_cl() {
  config::Config config;
  for (const char* name : {"lighthouse", "teku", "nimbus"}) config.cl.push_back({name, "http://127.0.0.1:5052"});
  return config;
}

// A snapshot in which exactly the CL nodes in `healthy` are healthy.
health::SnapshotPtr cl_snapshot(std::vector<bool> healthy) {
  auto snapshot = std::make_shared<health::HealthSnapshot>();
  for (std::size_t i = 0; i < healthy.size(); ++i) {
    health::NodeHealth node;
    node.name = "cl-" + std::to_string(i);
    node.healthy = healthy[i];
    snapshot->cl.nodes.push_back(node);
    if (healthy[i]) ++snapshot->cl.healthy_count;
  }
  return snapshot;
}

std::uint64_t moved(observability::ProxyMetrics& metrics, const char* node) {
  return metrics.cl_streams_moved_total.with({node}).value();
}

struct EventStreamsTest : ::testing::Test {
  config::Config config = three_cl();
  observability::ProxyMetrics metrics{config};
};


TEST_F(EventStreamsTest, EndsOnlyTheStreamsOfANodeThatLeftTheCandidates) {
  EventStreams streams(config, metrics, cl_snapshot({true, true, true}));
  int ended_a = 0, ended_b = 0, ended_c = 0;
  EventStreams::Watch a1(streams, 0, [&] { ++ended_a; });
  EventStreams::Watch a2(streams, 0, [&] { ++ended_a; });
  EventStreams::Watch b(streams, 1, [&] { ++ended_b; });
  EventStreams::Watch c(streams, 2, [&] { ++ended_c; });
  EXPECT_EQ(streams.open_count(), 4u);

  streams.on_snapshot(cl_snapshot({false, true, true}));
  EXPECT_EQ(ended_a, 2);
  EXPECT_TRUE(a1.ended());
  EXPECT_TRUE(a2.ended());
  EXPECT_EQ(ended_b, 0);
  EXPECT_FALSE(b.ended());
  EXPECT_EQ(moved(metrics, "lighthouse"), 2u);
  EXPECT_EQ(moved(metrics, "teku"), 0u);

  // Still unhealthy in the next round: nothing is ended (or counted) twice.
  streams.on_snapshot(cl_snapshot({false, false, true}));
  EXPECT_EQ(ended_a, 2);
  EXPECT_EQ(ended_b, 1);
  EXPECT_EQ(ended_c, 0);
  EXPECT_EQ(moved(metrics, "lighthouse"), 2u);
  EXPECT_EQ(moved(metrics, "teku"), 1u);
  EXPECT_EQ(moved(metrics, "nimbus"), 0u);
}

TEST_F(EventStreamsTest, ANodeThatIsNoLongerFirstButStillHealthyKeepsItsStreams) {
  EventStreams streams(config, metrics, cl_snapshot({false, true, true}));
  int ended = 0;
  EventStreams::Watch on_b(streams, 1, [&] { ++ended; });
  streams.on_snapshot(cl_snapshot({true, true, true}));  // the first node is back and preferred
  EXPECT_EQ(ended, 0);
  EXPECT_FALSE(on_b.ended());
}

TEST_F(EventStreamsTest, AStreamFromANodeAlreadyUnroutableEndsAtOnce) {
  // The node failed between routing and its answer: the stream must not stay on it.
  EventStreams streams(config, metrics, cl_snapshot({true, true, true}));
  streams.on_snapshot(cl_snapshot({false, true, true}));
  int ended = 0;
  EventStreams::Watch late(streams, 0, [&] { ++ended; });
  EXPECT_EQ(ended, 1);
  EXPECT_TRUE(late.ended());
  EXPECT_EQ(moved(metrics, "lighthouse"), 1u);
}

TEST_F(EventStreamsTest, AFinishedStreamIsForgotten) {
  EventStreams streams(config, metrics, cl_snapshot({true, true, true}));
  int ended = 0;
  {
    EventStreams::Watch gone(streams, 0, [&] { ++ended; });
    EXPECT_EQ(streams.open_count(), 1u);
  }
  EXPECT_EQ(streams.open_count(), 0u);
  streams.on_snapshot(cl_snapshot({false, true, true}));
  EXPECT_EQ(ended, 0);
  EXPECT_EQ(moved(metrics, "lighthouse"), 0u);
}

TEST_F(EventStreamsTest, EveryNodeUnhealthyEndsEveryStream) {
  // With no candidate the client's reconnect gets 503 until one is back; that beats a dead stream.
  EventStreams streams(config, metrics, cl_snapshot({true, true, true}));
  int ended = 0;
  EventStreams::Watch a(streams, 0, [&] { ++ended; });
  EventStreams::Watch c(streams, 2, [&] { ++ended; });
  streams.on_snapshot(cl_snapshot({false, false, false}));
  EXPECT_EQ(ended, 2);
}

}  // namespace
}  // namespace vixy::http
