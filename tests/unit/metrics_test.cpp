#include "observability/metrics.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>
#include <vector>

namespace vixy::observability {
namespace {

TEST(Metrics, RendersCounterGaugeAndHistogramInRegistrationOrder) {
  Registry registry;
  auto& requests = registry.counter("test_requests_total", "Requests seen", {"method", "code"});
  auto& temperature = registry.gauge("test_temperature", "Current temperature");
  // Bounds and observations are powers of two so the sum is exact.
  auto& latency = registry.histogram("test_latency_seconds", "Latency", {"route"}, {0.125, 0.5, 1});

  requests.with({"post", "500"}).inc();
  requests.with({"get", "200"}).inc(3);
  temperature.get().set(21.5);
  auto& route_a = latency.with({"/a"});
  route_a.observe(0.0625);
  route_a.observe(0.125);  // on the bound: `le` is inclusive
  route_a.observe(0.75);
  route_a.observe(3);

  EXPECT_EQ(registry.render(),
            "# HELP test_requests_total Requests seen\n"
            "# TYPE test_requests_total counter\n"
            "test_requests_total{method=\"get\",code=\"200\"} 3\n"
            "test_requests_total{method=\"post\",code=\"500\"} 1\n"
            "# HELP test_temperature Current temperature\n"
            "# TYPE test_temperature gauge\n"
            "test_temperature 21.5\n"
            "# HELP test_latency_seconds Latency\n"
            "# TYPE test_latency_seconds histogram\n"
            "test_latency_seconds_bucket{route=\"/a\",le=\"0.125\"} 2\n"
            "test_latency_seconds_bucket{route=\"/a\",le=\"0.5\"} 2\n"
            "test_latency_seconds_bucket{route=\"/a\",le=\"1\"} 3\n"
            "test_latency_seconds_bucket{route=\"/a\",le=\"+Inf\"} 4\n"
            "test_latency_seconds_sum{route=\"/a\"} 3.9375\n"
            "test_latency_seconds_count{route=\"/a\"} 4\n");
}

TEST(Metrics, HistogramWithoutLabelsPutsOnlyLeInBraces) {
  Registry registry;
  registry.histogram("h", "H", {}, {1}).get().observe(2);
  EXPECT_EQ(registry.render(),
            "# HELP h H\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 2\n"
            "h_count 1\n");
}

TEST(Metrics, HistogramCountsNanOnlyInInfBucket) {
  Histogram histogram({1, 2});
  histogram.observe(std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(histogram.cumulative_counts(), (std::vector<std::uint64_t>{0, 0, 1}));
  EXPECT_EQ(histogram.count(), 1u);
}

TEST(Metrics, DefaultBucketsArePrometheusDefaults) {
  Registry registry;
  registry.histogram("d", "D").get().observe(0.3);
  const std::string text = registry.render();
  for (const char* le : {"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"}) {
    EXPECT_NE(text.find(std::string("d_bucket{le=\"") + le + "\"} "), std::string::npos) << le;
  }
  EXPECT_NE(text.find("d_bucket{le=\"0.25\"} 0\n"), std::string::npos);
  EXPECT_NE(text.find("d_bucket{le=\"0.5\"} 1\n"), std::string::npos);
}

TEST(Metrics, FamilyWithoutChildrenRendersOnlyHelpAndType) {
  Registry registry;
  registry.counter("empty_total", "Nothing yet", {"node"});
  EXPECT_EQ(registry.render(), "# HELP empty_total Nothing yet\n# TYPE empty_total counter\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.counter("esc_total", "back\\slash \"quoted\"\nsecond line", {"v"})
      .with({"a\"b\\c\nd"})
      .inc();
  EXPECT_EQ(registry.render(),
            "# HELP esc_total back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE esc_total counter\n"
            "esc_total{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

std::string render_gauge(double value) {
  Registry registry;
  registry.gauge("g", "G").get().set(value);
  const std::string text = registry.render();
  const std::string prefix = "# HELP g G\n# TYPE g gauge\ng ";
  EXPECT_EQ(text.substr(0, prefix.size()), prefix);
  EXPECT_EQ(text.back(), '\n');
  return text.substr(prefix.size(), text.size() - prefix.size() - 1);
}

TEST(Metrics, FormatsNumbersTheWayPrometheusReadsThem) {
  EXPECT_EQ(render_gauge(12345), "12345");
  EXPECT_EQ(render_gauge(21000000.0), "21000000");
  EXPECT_EQ(render_gauge(12345678901.0), "12345678901");
  EXPECT_EQ(render_gauge(-3), "-3");
  EXPECT_EQ(render_gauge(0), "0");
  EXPECT_EQ(render_gauge(-0.0), "0");
  EXPECT_EQ(render_gauge(0.001), "0.001");
  EXPECT_EQ(render_gauge(0.1), "0.1");
  EXPECT_EQ(render_gauge(2.5), "2.5");
  EXPECT_EQ(render_gauge(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(render_gauge(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(render_gauge(std::numeric_limits<double>::quiet_NaN()), "NaN");
  // Round-trips: whatever the shortest form is, it must read back as the same double.
  EXPECT_EQ(std::stod(render_gauge(1.0 / 3.0)), 1.0 / 3.0);
}

TEST(Metrics, CounterRendersFullUint64Range) {
  Registry registry;
  registry.counter("big_total", "Big").get().inc(std::numeric_limits<std::uint64_t>::max());
  EXPECT_EQ(registry.render(), "# HELP big_total Big\n# TYPE big_total counter\nbig_total 18446744073709551615\n");
}

TEST(Metrics, WithRejectsWrongNumberOfLabelValues) {
  Registry registry;
  auto& family = registry.counter("arity_total", "Arity", {"a", "b"});
  EXPECT_THROW(family.with({"only-one"}), std::invalid_argument);
  EXPECT_THROW(family.with({"1", "2", "3"}), std::invalid_argument);
  EXPECT_THROW(family.get(), std::invalid_argument);
  EXPECT_NO_THROW(family.with({"1", "2"}));
}

TEST(Metrics, ChildrenKeepTheirAddress) {
  Registry registry;
  auto& family = registry.gauge("addr", "Addr", {"k"});
  Gauge& first = family.with({"x"});
  for (int i = 0; i < 100; ++i) family.with({std::to_string(i)});
  EXPECT_EQ(&family.with({"x"}), &first);
}

TEST(Metrics, RegisteringANameAgainReturnsTheSameFamilyOrThrowsOnConflict) {
  Registry registry;
  auto& first = registry.counter("dup_total", "Dup", {"a"});
  EXPECT_EQ(&registry.counter("dup_total", "Dup", {"a"}), &first);
  EXPECT_THROW(registry.counter("dup_total", "Dup", {"b"}), std::invalid_argument);
  EXPECT_THROW(registry.gauge("dup_total", "Dup", {"a"}), std::invalid_argument);
  EXPECT_THROW(registry.histogram("dup_total", "Dup", {"a"}), std::invalid_argument);
}

TEST(Metrics, HistogramRejectsUnorderedBounds) {
  EXPECT_THROW(Histogram({1, 0.5}), std::invalid_argument);
  EXPECT_THROW(Histogram({1, 1}), std::invalid_argument);
  Registry registry;
  EXPECT_THROW(registry.histogram("bad", "Bad", {}, {2, 1}), std::invalid_argument);
}

TEST(Metrics, ConcurrentUpdatesAreNotLost) {
  Registry registry;
  auto& counters = registry.counter("conc_total", "Concurrent", {"k"});
  auto& gauge = registry.gauge("conc_gauge", "Concurrent").get();
  auto& histogram = registry.histogram("conc_hist", "Concurrent", {}, {0.5, 2}).get();
  constexpr int kThreads = 4;
  constexpr int kIncrements = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        counters.with({"shared"}).inc();  // lookup and update race together
        gauge.add(1);
        histogram.observe(1);
        if (i % 1000 == 0) (void)registry.render();  // scrapes race with updates
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counters.with({"shared"}).value(), 40000u);
  EXPECT_EQ(gauge.value(), 40000.0);
  EXPECT_EQ(histogram.count(), 40000u);
  EXPECT_EQ(histogram.sum(), 40000.0);
  EXPECT_EQ(histogram.cumulative_counts(), (std::vector<std::uint64_t>{0, 40000, 40000}));
}

}  // namespace
}  // namespace vixy::observability
