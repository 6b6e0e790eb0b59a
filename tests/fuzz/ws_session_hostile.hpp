#pragma once
// The second half of the ws_session target: one SessionCore fed texts the fuzzer writes itself
// (anything a client or a node may send, not only the model's dictionary), checked on what can be
// told without a model: every client request with an id gets exactly one answer under that id,
// byte for byte, by the end (I1); nothing else reaches the client (I2); notifications come only
// under subscription ids the client was given (I3); the pending count stays bounded (I5); every
// text either side gets is JSON.
//
// Input, after the mode byte: frames of [kind][length][length bytes]. Kinds (by value % 9):
//   0 client text   1 client binary frame   2 connect the oldest connecting upstream
//   3 lose an open upstream (first byte picks)   4 the oldest request on an upstream is answered
//   (first byte picks the connection; a subscribe gets a fresh node id)   5 a text from an
//   upstream: "$ID" answers its oldest unanswered id, "$LAST" the one before again   6 a notification for a node
//   subscription id, the bytes as its result   7 time passes (first byte × 10 ms)   8 health: the
//   first byte is the mask of healthy nodes
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "ws_model.hpp"

namespace vixy::fuzz {

class HostileSession {
 public:
  using json = nlohmann::json;
  static constexpr std::chrono::milliseconds kTimeout{1'000};
  // Small limits, so that inputs of a few hundred bytes reach every refusal.
  static constexpr std::size_t kMaxPendingBytes = 1024;
  static constexpr std::size_t kMaxDepth = 8;
  static constexpr std::size_t kMaxBatch = 4;

  HostileSession()
      : core_({{"p0", config::Tier::primary}, {"p1", config::Tier::primary}, {"b0", config::Tier::backup}},
              ws::SessionSettings{8, 4, kTimeout, std::chrono::milliseconds(100), std::chrono::milliseconds(800), 4,
                                  kMaxPendingBytes, kMaxDepth, kMaxBatch},
              7) {
    core_.start({0, 1, 2}, now_);
    pump();
  }

  void frame(unsigned kind, std::string_view bytes) {
    const unsigned first = bytes.empty() ? 0U : static_cast<unsigned char>(bytes.front());
    switch (kind % 9) {
      case 0: client_text(bytes); break;
      case 1:
        ++null_answers_expected_;
        core_.client_binary(now_);
        break;
      case 2: connect(); break;
      case 3: lose(first); break;
      case 4: answer(first); break;
      case 5: upstream_text(first, bytes); break;
      case 6: notify(first, bytes); break;
      case 7: advance(std::chrono::milliseconds(10 * first)); break;
      case 8: health(first); break;
    }
    pump();
  }

  // Everything connects, every upstream request is answered, time passes every deadline: then
  // every request with an id has had its one answer.
  void drain() {
    health(7);
    for (int round = 0; round < 30; ++round) {
      while (!connecting_.empty()) connect();
      for (auto& [id, conn] : open_) {
        while (!conn.inbox.empty()) answer_on(id);
      }
      pump();
      advance(std::chrono::milliseconds(900));
    }
    advance(kTimeout + std::chrono::milliseconds(1));
    for (const auto& [id, count] : requests_) {
      const auto answered = answers_.count(id) ? answers_.at(id) : 0;
      VIXY_FUZZ_CHECK(answered >= count, "I1: after draining, a request with id " + id + " has no answer");
    }
  }

 private:
  struct Upstream {
    std::deque<std::pair<std::uint64_t, std::string>> inbox;  // unanswered (id, method)
    std::vector<std::string> subscriptions;                    // ids this node handed out
    std::uint64_t next_sub = 1;
    std::uint64_t last_answered = 1;
  };

  // ---- the client ----
  void client_text(std::string_view text) {
    const auto doc = json::parse(text, nullptr, false);
    const bool bad = doc.is_discarded() || text.find('\0') != std::string_view::npos || text.starts_with("\xEF\xBB\xBF");
    // Too deep or too large a batch: refused whole, with a null id.
    const bool refused = !bad && (jsonrpc::raw::check(text, kMaxDepth) == jsonrpc::raw::Verdict::too_deep ||
                                  (doc.is_array() && (doc.empty() || doc.size() > kMaxBatch)));
    if (bad || refused) {
      ++null_answers_expected_;
    } else if (doc.is_array()) {
      for (const auto& [key, element] : ws::model::raw_parts(text)) count_request(element);
    } else {
      count_request(std::string(text));
    }
    core_.client_text(text, now_);
  }

  // The id the core reads is the last "id" member, with keys compared as the parser reads them.
  static std::optional<std::string> last_id(std::string_view object_text) {
    std::optional<std::string> id;
    for (const auto& [key, value] : ws::model::raw_parts(object_text)) {
      const auto name = json::parse(key, nullptr, false);
      if (name.is_string() && name.get<std::string>() == "id") id = value;
    }
    return id;
  }

  // A message with an id of a valid type is answered under it (a result, or an error when the
  // request is not valid); anything else gets an error with a null id, or nothing (notifications).
  void count_request(const std::string& text) {
    const auto doc = json::parse(text);
    if (!doc.is_object()) {
      ++null_answers_expected_;
      return;
    }
    const auto id = last_id(text);
    const auto params = doc.find("params");
    const bool valid = doc.contains("method") && doc["method"].is_string() &&
                       (params == doc.end() || params->is_array() || params->is_object());
    if (id && (doc["id"].is_string() || doc["id"].is_number())) {
      ++requests_[*id];
    } else if (id || !valid) {
      ++null_answers_expected_;  // a null id, an id of another type, or an invalid notification
    }
  }

  void on_client(const std::string& text) {
    VIXY_FUZZ_CHECK(jsonrpc::raw::valid(text, SIZE_MAX), "the client got text that is not JSON: " + text);
    const auto doc = json::parse(text);
    if (doc.is_array()) {
      VIXY_FUZZ_CHECK(!doc.empty(), "the client got an empty batch answer");
      for (const auto& [key, element] : ws::model::raw_parts(text)) on_answer(element);
    } else if (doc.is_object() && doc.contains("method")) {
      // Absent params are null (a const json's operator[] would assert on a missing key).
      const auto params = doc.value("params", json());
      VIXY_FUZZ_CHECK(doc["method"] == "eth_subscription" && params.is_object() && params.contains("subscription") &&
                          given_.count(params["subscription"].dump()) != 0,
                      "I3: a notification under an id the client was never given: " + text);
    } else {
      on_answer(text);
    }
  }

  void on_answer(const std::string& text) {
    const auto doc = json::parse(text);
    // Only the id is the proxy's to vouch for: a node's answer is relayed as the node wrote it
    // (one with neither a result nor an error becomes the proxy's error).
    VIXY_FUZZ_CHECK(doc.is_object() && doc.contains("id"), "an answer without an id: " + text);
    const auto id = last_id(text);
    if (*id == "null") {
      VIXY_FUZZ_CHECK(null_answers_ < null_answers_expected_ + requests_["null"],
                      "I2: an answer with a null id nobody asked for: " + text);
      ++null_answers_;
      return;
    }
    auto& answered = answers_[*id];
    ++answered;
    VIXY_FUZZ_CHECK(answered <= requests_[*id], "I1/I2: more answers under id " + *id + " than requests: " + text);
    if (doc.contains("result") && doc["result"].is_string()) given_.insert(doc["result"].dump());
  }

  // ---- the nodes ----
  void connect() {
    if (connecting_.empty()) return;
    const auto id = connecting_.front();
    connecting_.pop_front();
    open_[id];
    core_.upstream_connected(id, now_);
  }

  ws::ConnectionId pick_open(unsigned pick) const {
    if (open_.empty()) return 0;
    auto it = open_.begin();
    std::advance(it, pick % open_.size());
    return it->first;
  }

  void lose(unsigned pick) {
    const auto id = pick_open(pick);
    if (id == 0) return;
    open_.erase(id);
    core_.upstream_lost(id, now_);
  }

  void answer(unsigned pick) {
    if (const auto id = pick_open(pick); id != 0) answer_on(id);
  }

  void answer_on(ws::ConnectionId connection) {
    auto& conn = open_[connection];
    if (conn.inbox.empty()) return;
    const auto [id, method] = conn.inbox.front();
    conn.inbox.pop_front();
    std::string result = "\"0x1\"";
    if (method == "eth_subscribe") {
      conn.subscriptions.push_back("0x" + std::to_string(conn.next_sub++));
      result = "\"" + conn.subscriptions.back() + "\"";
    } else if (method == "eth_unsubscribe") {
      result = "true";
    }
    core_.upstream_text(connection, R"({"jsonrpc":"2.0","id":)" + std::to_string(id) + R"(,"result":)" + result + "}",
                        now_);
  }

  void upstream_text(unsigned pick, std::string_view bytes) {
    const auto connection = pick_open(pick);
    if (connection == 0 || bytes.empty()) return;
    auto& conn = open_[connection];
    std::string text(bytes.substr(1));
    const auto replace = [&](std::string_view placeholder, const std::string& id) {
      for (auto at = text.find(placeholder); at != std::string::npos; at = text.find(placeholder, at + id.size())) {
        text.replace(at, placeholder.size(), id);
      }
    };
    // "$ID": the oldest request this node has not answered, answered now; "$LAST": the one
    // answered before, answered again.
    if (text.find("$ID") != std::string::npos && !conn.inbox.empty()) {
      conn.last_answered = conn.inbox.front().first;
      conn.inbox.pop_front();
    }
    replace("$ID", std::to_string(conn.last_answered));
    replace("$LAST", std::to_string(conn.last_answered));
    // Anything at all: an answer that is not JSON reaches its client as an error, never as text.
    core_.upstream_text(connection, text, now_);
  }

  void notify(unsigned pick, std::string_view bytes) {
    const auto connection = pick_open(pick);
    if (connection == 0 || open_[connection].subscriptions.empty() || bytes.empty()) return;
    const auto& subs = open_[connection].subscriptions;
    const auto& sub = subs[(pick / 8) % subs.size()];
    const auto result = json::parse(bytes.substr(1), nullptr, false);
    const std::string result_text = result.is_discarded() ? std::string("{}") : std::string(bytes.substr(1));
    core_.upstream_text(connection,
                        R"({"jsonrpc":"2.0","method":"eth_subscription","params":{"subscription":")" + sub +
                            R"(","result":)" + result_text + "}}",
                        now_);
  }

  void on_upstream(ws::ConnectionId connection, const std::string& text) {
    VIXY_FUZZ_CHECK(open_.count(connection) != 0, "text sent on an upstream that is not open");
    VIXY_FUZZ_CHECK(jsonrpc::raw::valid(text, SIZE_MAX), "an upstream got text that is not JSON: " + text);
    const auto doc = json::parse(text);
    auto& conn = open_[connection];
    const auto take = [&](const json& request) {
      if (!request.is_object() || !request.contains("id")) return;
      VIXY_FUZZ_CHECK(request["id"].is_number_unsigned(), "an upstream id that is not the proxy's: " + text);
      conn.inbox.emplace_back(request["id"].get<std::uint64_t>(), request.value("method", ""));
    };
    if (doc.is_array()) {
      for (const auto& request : doc) take(request);
    } else {
      take(doc);
    }
  }

  // ---- time and health ----
  void advance(std::chrono::milliseconds by) {
    const auto target = now_ + by;
    for (int i = 0; i < 1000; ++i) {
      const auto deadline = core_.next_deadline();
      if (!deadline || *deadline > target) break;
      now_ = std::max(now_, *deadline);
      core_.tick(now_);
      pump();
    }
    now_ = target;
  }

  void health(unsigned mask) {
    std::vector<std::size_t> candidates;
    for (std::size_t node = 0; node < 3; ++node) {
      if ((mask >> node) & 1U) candidates.push_back(node);
    }
    core_.health_changed(candidates, now_);
  }

  void pump() {
    // VIXY_FUZZ_TRACE=1 prints what both sides get, to read a failing input's story.
    static const bool trace = std::getenv("VIXY_FUZZ_TRACE") != nullptr;
    for (const auto& action : core_.take_actions()) {
      if (const auto* send = std::get_if<ws::SendUpstream>(&action)) {
        if (trace) std::fprintf(stderr, "  up[%llu] %s\n", static_cast<unsigned long long>(send->connection), send->text.c_str());
        on_upstream(send->connection, send->text);
      } else if (const auto* client = std::get_if<ws::SendClient>(&action)) {
        if (trace) std::fprintf(stderr, "  client %s\n", client->text.c_str());
        on_client(client->text);
      } else if (const auto* connect = std::get_if<ws::Connect>(&action)) {
        connecting_.push_back(connect->connection);
      } else if (const auto* disconnect = std::get_if<ws::Disconnect>(&action)) {
        open_.erase(disconnect->connection);
        connecting_.erase(std::remove(connecting_.begin(), connecting_.end(), disconnect->connection),
                          connecting_.end());
      } else {
        vixy::fuzz::check_failed("the core closed the client", __FILE__, __LINE__);
      }
    }
    VIXY_FUZZ_CHECK(core_.pending_requests() <= 8 && core_.queued_messages() <= 8,
                    "I5: more pending than max_pending_requests");
  }

  ws::SessionCore core_;
  ws::TimePoint now_ = ws::TimePoint{} + std::chrono::hours(1000);
  std::deque<ws::ConnectionId> connecting_;
  std::map<ws::ConnectionId, Upstream> open_;
  std::map<std::string, std::size_t> requests_;  // raw id -> requests sent with it
  std::map<std::string, std::size_t> answers_;   // raw id -> answers received under it
  std::size_t null_answers_expected_ = 0;        // messages answered with a null id
  std::size_t null_answers_ = 0;
  std::set<std::string> given_;  // strings the client got as results: subscription ids among them
};

}  // namespace vixy::fuzz
