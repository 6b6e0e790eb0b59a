#pragma once
// [limits] requests_per_second and burst for one HTTP request, /el and /cl alike: both spend the
// same per-client budget (routing/rate_limit.hpp), and each answers a refusal in its own shape.

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "net/http_server.hpp"
#include "routing/rate_limit.hpp"

namespace vixy::http {

struct RateRefusal {
  std::uint64_t retry_after_s = 1;  // the Retry-After header's value
  std::string message;              // what the client is told
};

// nullopt when `cost` requests (a batch's entries) from the request's client (its peer, or the
// X-Forwarded-For address `limits.trusted_proxies` vouch for) fit its budget.
std::optional<RateRefusal> rate_refusal(routing::RateLimiter& limiter, const config::Limits& limits,
                                        const net::HttpConnection& connection, const net::Request& request,
                                        std::uint64_t cost);

}  // namespace vixy::http
