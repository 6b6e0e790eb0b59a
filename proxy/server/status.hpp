#pragma once
// GET /status: Vixy's JSON document (same field names, so existing tooling keeps working) with
// vixy's additions. Every URL in it is redacted.

#include <string>

#include "config/config.hpp"
#include "health/snapshot.hpp"

namespace vixy::server {

std::string render_status(const health::HealthSnapshot& snapshot, const config::Config& config);

}  // namespace vixy::server
