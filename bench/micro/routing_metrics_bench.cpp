// Choosing a node from a health snapshot (routing/select.cpp, once per HTTP request and per
// session switch) and rendering /metrics (observability/) for a proxy with 20 nodes.
#include <benchmark/benchmark.h>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "observability/proxy_metrics.hpp"
#include "routing/select.hpp"

namespace {

namespace config = vixy::config;
namespace health = vixy::health;

constexpr int kNodes = 20;

// 10 primaries and 10 backups; through the real config parser, as vixy builds it.
config::Config twenty_nodes() {
  std::string toml;
  for (int i = 0; i < kNodes; ++i) {
    const char* tier = i < kNodes / 2 ? "primary" : "backup";
    toml += "[[el." + std::string(tier) + "]]\nname = \"node-" + std::to_string(i) + "\"\n" +
            "http_url = \"http://127.0.0.1:" + std::to_string(10000 + i) + "\"\n" +
            "ws_url = \"ws://127.0.0.1:" + std::to_string(10000 + i) + "\"\n";
  }
  return config::parse(toml, "bench.toml");
}

// Every primary but the last unhealthy: the selection walks the whole primary tier.
health::HealthSnapshot snapshot_of(const config::Config& cfg) {
  health::HealthSnapshot snapshot;
  snapshot.el = health::initial_el(cfg.el);
  for (std::size_t i = 0; i < snapshot.el.nodes.size(); ++i) {
    auto& node = snapshot.el.nodes[i];
    node.checked = true;
    node.height = 19'000'000 + i;
    node.healthy = i >= kNodes / 2 - 1;
    node.last_outcome = health::CheckOutcome::ok;
  }
  snapshot.el.chain_head = 19'000'000 + kNodes - 1;
  snapshot.round = 1;
  return snapshot;
}

void BM_RoutingElCandidates20(benchmark::State& state) {
  auto cfg = twenty_nodes();
  auto snapshot = snapshot_of(cfg);
  for (auto _ : state) benchmark::DoNotOptimize(vixy::routing::el_candidates(snapshot.el));
}

void BM_RoutingBestEl20(benchmark::State& state) {
  auto cfg = twenty_nodes();
  auto snapshot = snapshot_of(cfg);
  for (auto _ : state) benchmark::DoNotOptimize(vixy::routing::best_el(snapshot.el));
}

void BM_MetricsRender20Nodes(benchmark::State& state) {
  auto cfg = twenty_nodes();
  vixy::observability::ProxyMetrics metrics(cfg);
  health::HealthSnapshot before;
  metrics.publish(before, snapshot_of(cfg));
  for (const auto& node : cfg.el) {
    std::vector<std::string> labels{node.name, config::to_string(node.tier)};
    metrics.el_requests_total.with(labels).inc(1000);
    for (int i = 0; i < 100; ++i) metrics.el_request_duration_seconds.with(labels).observe(0.0001 * i);
    metrics.health_checks_total.with({"el", node.name, "ok"}).inc(50);
  }
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = metrics.render();
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.counters["bytes"] = static_cast<double>(bytes);
}

// A health round's effect on the gauges (once per health interval, not per request).
void BM_MetricsPublish20Nodes(benchmark::State& state) {
  auto cfg = twenty_nodes();
  vixy::observability::ProxyMetrics metrics(cfg);
  health::HealthSnapshot before;
  auto after = snapshot_of(cfg);
  for (auto _ : state) metrics.publish(before, after);
}

}  // namespace

BENCHMARK(BM_RoutingElCandidates20);
BENCHMARK(BM_RoutingBestEl20);
BENCHMARK(BM_MetricsRender20Nodes);
BENCHMARK(BM_MetricsPublish20Nodes);
