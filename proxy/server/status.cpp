#include "server/status.hpp"

#include <nlohmann/json.hpp>

#include "net/redact.hpp"

namespace vixy::server {

namespace {

// Insertion order keeps the document readable: heads first, then nodes, fields as listed here.
using Json = nlohmann::ordered_json;

// Local rather than the health/config to_string functions so /status does not depend on their
// translation units; the spellings are part of the /status contract anyway.
const char* tier_name(config::Tier tier) { return tier == config::Tier::backup ? "backup" : "primary"; }

const char* check_result(const health::NodeHealth& node) {
  if (!node.checked) return "not_checked";
  switch (node.last_outcome) {
    case health::CheckOutcome::ok: return "ok";
    case health::CheckOutcome::syncing: return "syncing";
    case health::CheckOutcome::failed: return "failed";
  }
  return "failed";
}

bool check_ok(const health::NodeHealth& node) {
  return node.checked && node.last_outcome == health::CheckOutcome::ok;
}

Json el_node(const health::NodeHealth& node, const config::ElNode* configured) {
  Json j;
  j["name"] = node.name;
  j["tier"] = tier_name(node.tier);
  if (configured != nullptr) {
    j["http_url"] = net::redact_url(configured->http_url);
    j["ws_url"] = net::redact_url(configured->ws_url);
  }
  j["is_primary"] = node.tier == config::Tier::primary;
  j["block_number"] = node.height.value_or(0);
  j["lag"] = node.lag;
  j["check_ok"] = check_ok(node);
  j["check_result"] = check_result(node);
  j["check_detail"] = node.last_detail;
  j["consecutive_failures"] = node.consecutive_failures;
  j["is_healthy"] = node.healthy;
  return j;
}

Json cl_node(const health::NodeHealth& node, const config::ClNode* configured) {
  Json j;
  j["name"] = node.name;
  if (configured != nullptr) j["url"] = net::redact_url(configured->url);
  j["slot"] = node.height.value_or(0);
  j["lag"] = node.lag;
  j["health_ok"] = check_ok(node);
  j["check_result"] = check_result(node);
  j["check_detail"] = node.last_detail;
  j["consecutive_failures"] = node.consecutive_failures;
  j["is_healthy"] = node.healthy;
  return j;
}

}  // namespace

std::string render_status(const health::HealthSnapshot& snapshot, const config::Config& config) {
  // Snapshot nodes follow configuration order; if the counts disagree the pairing by index would
  // show one node's URL under another's name, so URLs are left out instead.
  const bool el_matches = snapshot.el.nodes.size() == config.el.size();
  const bool cl_matches = snapshot.cl.nodes.size() == config.cl.size();

  Json el_nodes = Json::array();
  for (std::size_t i = 0; i < snapshot.el.nodes.size(); ++i) {
    el_nodes.push_back(el_node(snapshot.el.nodes[i], el_matches ? &config.el[i] : nullptr));
  }
  Json cl_nodes = Json::array();
  for (std::size_t i = 0; i < snapshot.cl.nodes.size(); ++i) {
    cl_nodes.push_back(cl_node(snapshot.cl.nodes[i], cl_matches ? &config.cl[i] : nullptr));
  }

  Json status;
  status["el_chain_head"] = snapshot.el.chain_head;
  status["cl_chain_head"] = snapshot.cl.chain_head;
  status["el_failover_active"] = snapshot.el_failover_active;
  status["health_round"] = snapshot.round;
  status["el_nodes"] = std::move(el_nodes);
  status["cl_nodes"] = std::move(cl_nodes);
  // Details can quote bytes a node sent; invalid UTF-8 must not turn /status into an exception.
  return status.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace vixy::server
