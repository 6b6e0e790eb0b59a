#include "net/connection_gate.hpp"

namespace vixy::net {

const char* to_string(Refusal refusal) {
  switch (refusal) {
    case Refusal::max_connections: return "max_connections";
    case Refusal::per_ip: return "per_ip";
    case Refusal::overflow: return "overflow";
  }
  return "unknown";
}

ConnectionGate::Verdict ConnectionGate::lane_or_close() const {
  return lane_ < caps_.overflow_lane ? Verdict::lane : Verdict::close;
}

ConnectionGate::Admission ConnectionGate::admit(Id id, const Address& from) {
  Admission admission;
  auto refuse = [&](Refusal why) {
    admission.verdict = lane_or_close();
    if (admission.verdict == Verdict::lane) {
      entries_[id] = Entry{from, /*lane=*/true, false, {}};
      ++lane_;
      admission.refusal = why;
    } else {
      admission.refusal = Refusal::overflow;
    }
    return admission;
  };
  bool per_ip = caps_.max_connections_per_ip > 0;
  if (per_ip) {
    auto at = per_address_.find(from);
    if (at != per_address_.end() && at->second >= caps_.max_connections_per_ip) return refuse(Refusal::per_ip);
  }
  if (caps_.max_connections > 0 && served_ >= caps_.max_connections) {
    admission.evicted = evict_idle();
    if (!admission.evicted) return refuse(Refusal::max_connections);
  }
  entries_[id] = Entry{from, false, false, {}};
  ++served_;
  if (per_ip) ++per_address_[from];
  idle(id);  // it has not sent a request yet
  return admission;
}

void ConnectionGate::idle(Id id) {
  auto at = entries_.find(id);
  if (at == entries_.end() || at->second.lane || at->second.is_idle) return;
  at->second.idle_at = idle_.insert(idle_.end(), id);
  at->second.is_idle = true;
}

void ConnectionGate::busy(Id id) {
  auto at = entries_.find(id);
  if (at == entries_.end() || !at->second.is_idle) return;
  idle_.erase(at->second.idle_at);
  at->second.is_idle = false;
}

std::optional<ConnectionGate::Id> ConnectionGate::evict_idle() {
  if (idle_.empty()) return std::nullopt;
  Id id = idle_.front();
  forget_served(entries_.find(id));
  return id;
}

void ConnectionGate::release(Id id) {
  auto at = entries_.find(id);
  if (at == entries_.end()) return;
  if (at->second.lane) {
    --lane_;
    entries_.erase(at);
    return;
  }
  forget_served(at);
}

void ConnectionGate::forget_served(std::unordered_map<Id, Entry>::iterator at) {
  Entry& entry = at->second;
  if (entry.is_idle) idle_.erase(entry.idle_at);
  --served_;
  if (caps_.max_connections_per_ip > 0) {
    auto count = per_address_.find(entry.from);
    if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
  }
  entries_.erase(at);
}

}  // namespace vixy::net
