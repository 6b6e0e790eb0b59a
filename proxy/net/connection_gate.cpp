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

ConnectionCounts::Full ConnectionCounts::try_add(const Address& from, const ConnectionCaps& caps) {
  std::lock_guard lock(mutex_);
  std::size_t* from_count = nullptr;
  if (caps.max_connections_per_ip > 0) {
    from_count = &per_address_[from];
    if (*from_count >= caps.max_connections_per_ip) return Full::per_ip;
  }
  if (caps.max_connections > 0 && total_ >= caps.max_connections) {
    if (from_count != nullptr && *from_count == 0) per_address_.erase(from);
    return Full::total;
  }
  ++total_;
  if (from_count != nullptr) ++*from_count;
  return Full::no;
}

void ConnectionCounts::remove(const Address& from) {
  std::lock_guard lock(mutex_);
  --total_;
  auto count = per_address_.find(from);
  if (count != per_address_.end() && --count->second == 0) per_address_.erase(count);
}

ConnectionGate::Verdict ConnectionGate::lane_or_close() const {
  return lane_ < caps_.overflow_lane ? Verdict::lane : Verdict::close;
}

ConnectionGate::Admission ConnectionGate::admit(Id id, const Address& from) {
  Admission admission;
  auto refuse = [&](Refusal why) {
    admission.verdict = lane_or_close();
    if (admission.verdict == Verdict::lane) {
      entries_[id] = Entry{id, from, /*lane=*/true, false, {}};
      ++lane_;
      admission.refusal = why;
    } else {
      admission.refusal = Refusal::overflow;
    }
    return admission;
  };
  if (caps_.max_served_here > 0 && served_ >= caps_.max_served_here) {
    // At its share: room comes from its own longest-idle connection, or not at all.
    admission.evicted = evict_idle();
    if (!admission.evicted) return refuse(Refusal::max_connections);
  }
  auto full = counts_->try_add(from, caps_);
  if (full == ConnectionCounts::Full::per_ip) return refuse(Refusal::per_ip);
  if (full == ConnectionCounts::Full::total) {
    // This gate makes room with its own longest-idle connection. Another thread's gate may take
    // the freed place first; then this one is refused all the same.
    if (!admission.evicted) admission.evicted = evict_idle();
    if (!admission.evicted || counts_->try_add(from, caps_) != ConnectionCounts::Full::no) {
      return refuse(Refusal::max_connections);
    }
  }
  entries_[id] = Entry{id, from, false, false, {}};
  ++served_;
  idle(id);  // it has not sent a request yet
  return admission;
}

void ConnectionGate::idle(Id id) {
  auto at = entries_.find(id);
  if (at == entries_.end() || at->second.lane || at->second.is_idle) return;
  idle_.push_back(at->second);
  at->second.is_idle = true;
}

void ConnectionGate::busy(Id id) {
  auto at = entries_.find(id);
  if (at == entries_.end() || !at->second.is_idle) return;
  idle_.erase(idle_.iterator_to(at->second));
  at->second.is_idle = false;
}

std::optional<ConnectionGate::Id> ConnectionGate::evict_idle() {
  if (idle_.empty()) return std::nullopt;
  Id id = idle_.front().id;
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
  if (entry.is_idle) idle_.erase(idle_.iterator_to(entry));
  --served_;
  counts_->remove(entry.from);
  entries_.erase(at);
}

}  // namespace vixy::net
