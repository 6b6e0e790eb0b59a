#pragma once
// Which handler answers which request. Vixy's endpoints: POST /el, GET /el/ws, ANY /cl/*,
// GET /health, GET /ready, GET /status, GET /metrics.

#include "server/context.hpp"
#include "server/http_server.hpp"

namespace vixy::server {

struct RouterOptions {
  bool serve_metrics = true;  // false when metrics are disabled or served on their own port
};

asio::awaitable<void> route(ProxyContext& context, const RouterOptions& options, HttpConnection& connection,
                            Request& request);

// The listener on [metrics] port: /metrics only.
asio::awaitable<void> route_metrics_only(ProxyContext& context, HttpConnection& connection, Request& request);

}  // namespace vixy::server
