#include "server/generation.hpp"

#include "http/upstream_pool.hpp"

namespace vixy::server {

Generation::Generation(config::Config config_in, health::SnapshotPtr initial, observability::Gauge* alive)
    : config(std::move(config_in)),
      tls(http::make_client_tls_context(config.tls.ca_file)),
      limiter(config.limits.requests_per_second > 0
                  ? std::make_unique<routing::RateLimiter>(config.limits.requests_per_second, config.limits.burst)
                  : nullptr),
      health(initial ? std::move(initial) : health::initial_snapshot(config)),
      alive_(alive) {
  if (alive_ != nullptr) alive_->add(1);
}

// On whichever thread let go of it last: the gauge is atomic.
Generation::~Generation() {
  if (alive_ != nullptr) alive_->add(-1);
}

}  // namespace vixy::server
