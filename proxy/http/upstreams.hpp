#pragma once
// Connection pools for every configured node, in configuration order: one pool for client
// requests and one for health checks, so a check never waits behind (or disturbs) request traffic.

#include <deque>

#include "config/config.hpp"
#include "http/upstream_pool.hpp"

namespace vixy::http {

struct NodePools {
  UpstreamPool requests;
  UpstreamPool health;
};

struct Upstreams {
  std::deque<NodePools> el;  // deque: pools are not movable once handed out by reference
  std::deque<NodePools> cl;
};

// Throws std::invalid_argument on a URL that config validation should have rejected.
Upstreams make_upstreams(asio::any_io_executor executor, asio::ssl::context& tls, const config::Config& config);

}  // namespace vixy::http
