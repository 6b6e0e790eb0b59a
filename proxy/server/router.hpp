#pragma once
// Which handler answers which request. Vixy's endpoints: POST /el, GET /el/ws, ANY /cl/*,
// GET /health, GET /ready, GET /status, GET /metrics.

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "http/cl_handler.hpp"
#include "http/el_handler.hpp"
#include "net/http_server.hpp"
#include "observability/proxy_metrics.hpp"
#include "ws/hub.hpp"

namespace vixy::server {

// What the routes lead to; all owned by the App.
struct Endpoints {
  http::ElHandler& el;
  http::ClHandler& cl;
  ws::Hub& ws;
  const health::PublishedSnapshot& health;  // /ready, /status
  const config::Config& config;             // /status
  const observability::ProxyMetrics& metrics;
  bool serve_metrics = true;  // false when metrics are disabled or served on their own port
};

net::asio::awaitable<void> route(Endpoints& endpoints, net::HttpConnection& connection, net::Request& request);

// The listener on [metrics] port: /metrics only.
net::asio::awaitable<void> route_metrics_only(const observability::ProxyMetrics& metrics,
                                              net::HttpConnection& connection, net::Request& request);

}  // namespace vixy::server
