#pragma once
// Shared helpers for integration tests: the binaries under test and small JSON-RPC conveniences.

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chaos/cluster.hpp"

namespace vixy::testing {

// The vixy under test: this tree's, or the one VIXY_TEST_PROXY_BIN names (scripts/test.sh points it
// at the ThreadSanitizer build for the tests that drive vixy's threads).
inline std::string proxy_bin() {
  const char* other = std::getenv("VIXY_TEST_PROXY_BIN");
  return other != nullptr && *other != '\0' ? other : VIXY_BIN;
}

inline chaos::Binaries binaries() { return {proxy_bin(), VIXY_FAKENODE_BIN}; }

inline std::string rpc(const nlohmann::json& id, const std::string& method,
                       nlohmann::json params = nlohmann::json::array()) {
  return nlohmann::json{{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}}.dump();
}

inline nlohmann::json parse_body(const chaos::HttpResult& r) {
  return nlohmann::json::parse(r.body, nullptr, /*allow_exceptions=*/false);
}

// Waits until vixy reports at least one healthy EL node (GET /ready is 200).
inline bool wait_ready(chaos::Cluster& cluster, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  return chaos::wait_until([&] { return cluster.proxy_get("/ready", std::chrono::seconds(2)).status == 200; },
                           timeout);
}

// The name of the fake node that answered web3_clientVersion through the proxy ("" on failure).
inline std::string answering_node(chaos::Cluster& cluster) {
  auto r = cluster.proxy_post("/el", rpc(1, "web3_clientVersion"));
  auto body = parse_body(r);
  if (r.status != 200 || !body.is_object() || !body.contains("result")) return "";
  std::string version = body["result"].get<std::string>();
  return version.substr(version.rfind('/') + 1);
}

// How many times `needle` occurs in `text` (a log, say).
inline std::size_t count_occurrences(const std::string& text, const std::string& needle) {
  std::size_t count = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++count;
  return count;
}

inline nlohmann::json node_status(chaos::Cluster& cluster, const std::string& name) {
  return chaos::Cluster::find_node(cluster.status(), name);
}

}  // namespace vixy::testing
