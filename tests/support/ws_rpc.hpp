#pragma once
// A recording JSON-RPC-over-WebSocket client for the integration tests of GET /el/ws. It keeps
// every message it received, split into answers (keyed by the raw text of their id, so that ids
// can be checked byte-exact) and subscription notifications, which is what the invariants I1–I3
// are checked on.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chaos/cluster.hpp"
#include "chaos/http_client.hpp"

namespace vixy::testing {

using namespace std::chrono_literals;

// How long a test watches for answers nobody asked for (RpcWs::observe) after a session settled.
inline constexpr auto kQuietWindow = 700ms;

// The raw text of the top-level "id" member of a JSON object, e.g. `"a\"b"` or `1.50`; nullopt
// when the text is not an object or has no id.
std::optional<std::string> raw_id(std::string_view text);

// A request whose id is written exactly as given (`raw` is JSON text: `1`, `"x"`, `null`, `1e400`).
std::string request_text(const std::string& raw, const std::string& method,
                         const nlohmann::json& params = nlohmann::json::array());

// "0x" followed by 32 lowercase hex digits: the proxy's subscription ids.
bool is_proxy_subscription_id(const nlohmann::json& value);

struct Received {
  std::string text;
  nlohmann::json body;  // discarded when the text was not JSON
  std::string id;       // raw id text; "" when the message had none
};

// The subscription id a notification names; "" when it names none.
std::string subscription_of(const Received& notification);

class RpcWs {
 public:
  bool connect(std::uint16_t port, const std::string& target = "/el/ws");
  bool send(const std::string& text);

  // Receives until `done()` holds; false when the timeout passed (or the connection ended) first.
  bool pump_until(const std::function<bool()>& done, std::chrono::milliseconds timeout = 10s);
  // Receives whatever arrives within `window` (an observation window, not a wait for a condition);
  // the number of answers (not notifications) that arrived in it.
  std::size_t observe(std::chrono::milliseconds window);

  // Sends a request and waits for an answer with the same raw id; nullopt on timeout.
  std::optional<nlohmann::json> call(const std::string& raw, const std::string& method,
                                     const nlohmann::json& params = nlohmann::json::array(),
                                     std::chrono::milliseconds timeout = 10s);
  // eth_subscribe; the subscription id it was given, "" on failure (also reported to gtest).
  std::string subscribe(const std::string& raw, const nlohmann::json& params);
  // The name of the node that answered web3_clientVersion ("" on failure).
  std::string upstream_name(const std::string& raw = "\"whoami\"");

  const std::vector<Received>& answers() const { return answers_; }
  const std::vector<Received>& notifications() const { return notifications_; }
  std::size_t answer_count(const std::string& raw) const;
  std::vector<const Received*> answers_with(const std::string& raw) const;
  // Results of the notifications of `subscription` received at index `from` or later.
  std::vector<nlohmann::json> results_of(const std::string& subscription, std::size_t from = 0) const;
  // Receives until a notification of `subscription` arrives at index `from` or later (from =
  // notifications().size(): a new one); false on timeout.
  bool notified_after(const std::string& subscription, std::size_t from, std::chrono::milliseconds timeout = 10s);

  // I1 for these requests: each raw id got exactly one answer.
  ::testing::AssertionResult answered_once(const std::vector<std::string>& raws) const;
  // I3 for one subscription: every notification received names `subscription`.
  ::testing::AssertionResult notified_only_under(const std::string& subscription) const;

  chaos::WsClient& client() { return ws_; }
  bool closed() const { return ws_.closed(); }

 private:
  void record(std::string text);

  chaos::WsClient ws_;
  std::vector<Received> answers_;
  std::vector<Received> notifications_;
};

// One sample of the Prometheus text, e.g. `vixy_ws_upstream_node{node="el-primary"}`; -1 when absent.
double metric_sample(const std::string& metrics, const std::string& series);
double proxy_metric(chaos::Cluster& cluster, const std::string& series);
// vixy's metrics say its WebSocket sessions use `node` and not `other` (vixy_ws_upstream_node).
bool ws_upstream_is(chaos::Cluster& cluster, const std::string& node, const std::string& other);

}  // namespace vixy::testing
