#pragma once
// One configuration as vixy runs it, and what every thread shares for it: the settings, the TLS
// context nodes are reached with, the rate limiter and the health monitor's latest snapshot. A
// reload (SIGHUP) makes a new generation; the one before stays, unchanged, for as long as a
// session, event stream or request that began under it lives (each thread's part of a generation,
// ShardGeneration, holds it).

#include <memory>

#include <boost/asio/ssl/context.hpp>

#include "config/config.hpp"
#include "health/snapshot.hpp"
#include "observability/metrics.hpp"
#include "routing/rate_limit.hpp"

namespace vixy::server {

struct Generation {
  // `initial`: the nodes' health to start from (null: every node unchecked). `alive` counts the
  // generations in existence (vixy_config_generations). `previous`: the generation this one
  // replaces, whose rate limiter it keeps when [limits] did not change (a reload that adds a node
  // does not give every client a fresh budget). Throws std::runtime_error when the CA bundle cannot
  // be read.
  Generation(config::Config config, health::SnapshotPtr initial, observability::Gauge* alive = nullptr,
             const Generation* previous = nullptr);
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  const config::Config config;
  boost::asio::ssl::context tls;
  const std::shared_ptr<routing::RateLimiter> limiter;  // [limits], every thread's; null: no limit
  health::PublishedSnapshot health;                    // the monitor's; every thread is handed each one

 private:
  observability::Gauge* alive_;
};

using GenerationPtr = std::shared_ptr<Generation>;

}  // namespace vixy::server
