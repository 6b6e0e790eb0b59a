#include "chaos/run_picture.hpp"

#include <algorithm>
#include <deque>
#include <map>

#include "chaos/bounded_json.hpp"

namespace vixy::chaos {
namespace {

using nlohmann::json;

struct Sent {
  double at_ms;
  std::string method;
};

class ConnectionPicture {
 public:
  ConnectionPicture(const ConnectionHistory& h, SteadyTime start, RunPicture& out) : h_(h), start_(start), out_(out) {
    connection_.label = h.label();
    connection_.opened_ms = ms_since(start, h.opened);
    connection_.ended_ms = connection_.opened_ms;
  }

  void run() {
    for (const auto& e : h_.events) {
      double at = ms_since(start_, e.at);
      connection_.ended_ms = std::max(connection_.ended_ms, at);
      if (e.kind == EventKind::closed_by_peer || e.kind == EventKind::closed_by_client) {
        connection_.ended_by_peer = e.kind == EventKind::closed_by_peer;
        connection_.end_reason = e.text;
        break;
      }
      json message = parse_bounded(e.text);
      auto each = [&](auto f) {
        if (message.is_array()) {
          for (const auto& m : message) f(m);
        } else {
          f(message);
        }
      };
      if (e.kind == EventKind::sent) {
        each([&](const json& m) { on_sent(m, at); });
      } else {
        each([&](const json& m) { on_received(m, at); });
      }
    }
    out_.end_ms = std::max(out_.end_ms, connection_.ended_ms);
    out_.connections.push_back(std::move(connection_));
    for (auto& [id, sub] : subscriptions_) out_.subscriptions.push_back(std::move(sub));
  }

 private:
  void on_sent(const json& m, double at) {
    if (!m.is_object() || !m.contains("id") || !m.contains("method") || !m["method"].is_string()) return;
    outstanding_[m["id"].dump()].push_back({at, m["method"].get<std::string>()});
  }

  void on_received(const json& m, double at) {
    if (!m.is_object()) return;
    if (m.contains("method")) {
      const json* params = m.contains("params") ? &m["params"] : nullptr;
      if (params == nullptr || !params->is_object() || !params->contains("subscription")) return;
      const json& id = (*params)["subscription"];
      std::string key = id.is_string() ? id.get<std::string>() : id.dump();
      auto& sub = subscriptions_[key];
      // Ids share their start (a node's prefix): the end tells them apart.
      if (sub.label.empty()) sub.label = h_.label() + ", " + (key.size() > 12 ? "…" + key.substr(key.size() - 8) : key);
      sub.notified_ms.push_back(at);
      return;
    }
    if (!m.contains("id")) return;
    auto& queue = outstanding_[m["id"].dump()];
    if (queue.empty()) return;  // unsolicited: the checker reports it; nothing to time
    Sent sent = std::move(queue.front());
    queue.pop_front();
    out_.requests.push_back({sent.at_ms, at - sent.at_ms, m.contains("error"), false});
    if (sent.method == "web3_clientVersion" && m.contains("result") && m["result"].is_string()) {
      const auto& version = m["result"].get_ref<const std::string&>();
      connection_.served_by.emplace_back(at, version.substr(version.rfind('/') + 1));
    }
  }

  const ConnectionHistory& h_;
  SteadyTime start_;
  RunPicture& out_;
  PictureConnection connection_;
  std::map<std::string, std::deque<Sent>> outstanding_;
  std::map<std::string, PictureSubscription> subscriptions_;
};

}  // namespace

RunPicture picture_of(const std::vector<ConnectionHistory>& histories, const std::vector<HttpSample>& http,
                      SteadyTime start) {
  RunPicture out;
  for (const auto& h : histories) ConnectionPicture(h, start, out).run();
  for (const auto& s : http) {
    double sent = ms_since(start, s.sent);
    out.requests.push_back({sent, s.latency_ms, s.error, true});
    out.end_ms = std::max(out.end_ms, sent + s.latency_ms);
  }
  return out;
}

}  // namespace vixy::chaos
