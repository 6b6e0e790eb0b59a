#include "chaos/history.hpp"

namespace vixy::chaos {

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

}  // namespace vixy::chaos
