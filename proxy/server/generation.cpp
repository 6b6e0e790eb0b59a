#include "server/generation.hpp"

#include "http/upstream_pool.hpp"

namespace vixy::server {

namespace {

std::shared_ptr<routing::RateLimiter> limiter_for(const config::Limits& limits, const Generation* previous) {
  if (limits.requests_per_second == 0) return nullptr;
  if (previous != nullptr && previous->limiter != nullptr &&
      previous->config.limits.requests_per_second == limits.requests_per_second &&
      previous->config.limits.burst == limits.burst) {
    return previous->limiter;
  }
  return std::make_shared<routing::RateLimiter>(limits.requests_per_second, limits.burst);
}

}  // namespace

Generation::Generation(config::Config config_in, health::SnapshotPtr initial, observability::Gauge* alive,
                       const Generation* previous)
    : config(std::move(config_in)),
      tls(http::make_client_tls_context(config.tls.ca_file)),
      limiter(limiter_for(config.limits, previous)),
      health(initial ? std::move(initial) : health::initial_snapshot(config)),
      alive_(alive) {
  if (alive_ != nullptr) alive_->add(1);
}

// On whichever thread let go of it last: the gauge is atomic.
Generation::~Generation() {
  if (alive_ != nullptr) alive_->add(-1);
}

}  // namespace vixy::server
