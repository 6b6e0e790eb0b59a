#pragma once
// What every request handler of the proxy needs, owned by the App and alive for its lifetime.

#include "config/config.hpp"
#include "health/monitor.hpp"
#include "http/event_stream.hpp"
#include "http/upstreams.hpp"
#include "observability/proxy_metrics.hpp"
#include "ws/hub.hpp"

namespace vixy::server {

struct ProxyContext {
  const config::Config& config;
  observability::ProxyMetrics& metrics;
  vixy::http::Upstreams& upstreams;
  health::HealthMonitor& monitor;
  ws::Hub& ws;
  vixy::http::EventStreams& event_streams;  // open CL event streams, moved off unhealthy nodes
};

}  // namespace vixy::server
