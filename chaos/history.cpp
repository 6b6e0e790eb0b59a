#include "chaos/history.hpp"

#include <fstream>
#include <mutex>

#include <nlohmann/json.hpp>

namespace vixy::chaos {

using nlohmann::json;

bool ConnectionHistory::ended_by_peer() const {
  for (const auto& e : events) {
    if (e.kind == EventKind::closed_by_peer) return true;
    if (e.kind == EventKind::closed_by_client) return false;
  }
  return false;
}

std::string ConnectionHistory::label() const {
  return "client " + std::to_string(client) + " connection " + std::to_string(connection);
}

std::string SseStreamHistory::label() const {
  return "listener " + std::to_string(listener) + " stream " + std::to_string(stream);
}

namespace {

// Scenarios run side by side (--jobs) append to one histories file: one writer at a time.
std::mutex& histories_file_mutex() {
  static std::mutex mutex;
  return mutex;
}

}  // namespace

// One line per connection: {"client","connection","opened_ms","events":[[ms,"sent"|"received"|...,text]]}.
void write_histories(const std::string& path, const std::vector<ConnectionHistory>& histories, SteadyTime start) {
  static const char* kinds[] = {"sent", "received", "closed_by_proxy", "closed_by_client"};
  std::lock_guard lock(histories_file_mutex());
  std::ofstream out(path, std::ios::app);
  for (const auto& h : histories) {
    json events = json::array();
    for (const auto& e : h.events) events.push_back({ms_since(start, e.at), kinds[static_cast<int>(e.kind)], e.text});
    out << json{{"client", h.client}, {"connection", h.connection}, {"opened_ms", ms_since(start, h.opened)},
                {"events", events}}.dump() << "\n";
  }
}

// One line per CL listener stream: {"listener","stream","opened_ms","status","events":[[ms,event,data]],"ended_ms",...}.
void write_sse_histories(const std::string& path, const std::vector<SseStreamHistory>& streams, SteadyTime start) {
  std::lock_guard lock(histories_file_mutex());
  std::ofstream out(path, std::ios::app);
  for (const auto& h : streams) {
    json events = json::array();
    for (const auto& e : h.events) events.push_back({ms_since(start, e.at), e.event, e.data});
    out << json{{"listener", h.listener}, {"stream", h.stream}, {"opened_ms", ms_since(start, h.opened)},
                {"status", h.status}, {"content_type", h.content_type}, {"error", h.error}, {"events", events},
                {"ended_ms", ms_since(start, h.ended)}, {"ended_by_proxy", h.ended_by_peer}}.dump() << "\n";
  }
}

}  // namespace vixy::chaos
