#pragma once
// One health check of one node. Each is bounded by its deadline and never throws.
//   EL: eth_blockNumber over HTTP JSON-RPC.
//   CL: GET /eth/v1/node/health (200 healthy, 206 syncing, anything else failed), then the slot of
//       GET /eth/v1/beacon/headers/head (data.header.message.slot).

#include <boost/asio/awaitable.hpp>

#include "health/snapshot.hpp"
#include "http/upstream_pool.hpp"

namespace vixy::monitor {

boost::asio::awaitable<health::CheckResult> check_el(http::UpstreamPool& pool, http::Clock::time_point deadline);
boost::asio::awaitable<health::CheckResult> check_cl(http::UpstreamPool& pool, http::Clock::time_point deadline);

// Pure parts, for tests: what a node's answer means.
health::CheckResult interpret_el_block_number(unsigned http_status, std::string_view body);
health::CheckResult interpret_cl_head(unsigned http_status, std::string_view body);

}  // namespace vixy::monitor
