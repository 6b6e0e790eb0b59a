#include "http/rate_gate.hpp"

#include <chrono>

#include "routing/client_address.hpp"

namespace vixy::http {

std::optional<RateRefusal> rate_refusal(routing::RateLimiter& limiter, const config::Limits& limits,
                                        const net::HttpConnection& connection, const net::Request& request,
                                        std::uint64_t cost) {
  auto client = routing::client_address(connection.peer(), request, limits.trusted_proxies);
  auto verdict = limiter.admit(routing::rate_key(client), cost, std::chrono::steady_clock::now().time_since_epoch());
  if (verdict.allowed) return std::nullopt;
  RateRefusal refusal;
  refusal.retry_after_s = routing::retry_after_seconds(verdict.retry_after);
  refusal.message = routing::rate_limited_message(limits.requests_per_second, limits.burst, refusal.retry_after_s);
  return refusal;
}

}  // namespace vixy::http
